"""pursuit (PettingZoo sisl `pursuit_v5`): pursuers surround randomly moving evaders on a grid.

Agents: `pursuer_0 .. pursuer_7` (one role, `pursuer`). Observation: a 7x7x3 window around the pursuer (walls,
allies, evaders), flattened to 147. Actions: Discrete(5) = left, right, up, down, stay. Reward: +5 to each
pursuer around an evader when it is caught, +0.01 for touching one, -0.1 every step; shared across pursuers
with `shared_reward`. The episode ends when every evader is caught or at max_cycles.
Team reward: mean over pursuers.
Options (PettingZoo defaults): x_size=16, y_size=16, max_cycles=500, shared_reward=True, n_evaders=30,
n_pursuers=8, obs_range=7, n_catch=2, freeze_evaders=False, tag_reward=0.01, catch_reward=5.0,
urgency_reward=-0.1, surround=True, constraint_window=1.0.
"""

from __future__ import annotations

from pettingzoo.sisl import pursuit_v5

from games.spec import GameSpec, KeyMap

SPEC = GameSpec(
    name="pursuit",
    summary="eight pursuers surround thirty evaders on a 16x16 grid (PettingZoo sisl)",
    env_fn=pursuit_v5.parallel_env,
    options={
        "x_size": 16,
        "y_size": 16,
        "max_cycles": 500,
        "shared_reward": True,
        "n_evaders": 30,
        "n_pursuers": 8,
        "obs_range": 7,
        "n_catch": 2,
        "freeze_evaders": False,
        "tag_reward": 0.01,
        "catch_reward": 5.0,
        "urgency_reward": -0.1,
        "surround": True,
        "constraint_window": 1.0,
    },
    key_maps={
        "pursuer": KeyMap(keys={"left": 0, "right": 1, "up": 2, "down": 3}, idle=4, help="arrow keys move; no key = stay"),
    },
)
