"""simple_reference (mpe2 `simple_reference_v3`): each agent knows the other's goal and must tell it.

Agents: `agent_0`, `agent_1` (one role, `agent`). Observation (21): own velocity, landmark positions, the goal
colour of the *other* agent, and the word the other agent said. Actions: Discrete(50) = 5 moves x 10 words
(action = move + 5 * word). Reward: (1 - local_ratio) * shared distance reward + local_ratio * own distance.
Team reward: mean over agents.
Options (mpe2 defaults): local_ratio=0.5, max_cycles=25, continuous_actions=False, dynamic_rescaling=True.
"""

from __future__ import annotations

from mpe2 import simple_reference_v3

from games.spec import GameSpec, KeyMap

SPEC = GameSpec(
    name="simple_reference",
    summary="two agents each know the other's goal landmark and must talk each other there (mpe2)",
    env_fn=simple_reference_v3.parallel_env,
    options={"local_ratio": 0.5, "max_cycles": 25, "continuous_actions": False, "dynamic_rescaling": True},
    key_maps={
        # Moves only; the person always says word 0 (action = move + 5 * word).
        "agent": KeyMap(
            keys={"left": 1, "right": 2, "down": 3, "up": 4}, idle=0, help="arrow keys move (you always say word 0)"
        ),
    },
)
