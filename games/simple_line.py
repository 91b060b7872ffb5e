"""simple_line (mpe2 `simple_line_v1`): N agents stand evenly spaced on the line between two landmarks.

Agents: `agent_0 .. agent_{N-1}` (one role, `agent`), colliding, silent. Landmark 0 lies in [-0.25, 0.25]^2 and
landmark 1 1.25 from it in a random direction. Observation (8): own velocity (2), own position (2), both landmarks
relative to the agent (4); the agents do not see each other. Actions: Discrete(5) = no-op, left, right, down, up
(`continuous_actions=True`: Box(0, 1, (5,))). Reward, every agent the same: minus the mean distance of the agents
from the N evenly spaced slots, each agent matched to a slot by least total distance, each distance clipped to
[0, 2]. Team reward: the mean over agents (that same number).
Options (mpe2 defaults): N=4, max_cycles=25, continuous_actions=False, dynamic_rescaling=True,
terminate_on_success=False.

`FormationBatch` (games/formation_core.py) plays B games at once, discrete or continuous, for N <= 6 without
`terminate_on_success`; `tests/test_formation_cores.py` proves it equal to mpe2 over whole episodes.
Scripted plan (`games.scripted.simple_line`): agent i steers to slot i, counted from landmark 0.

Version history: v1 (this project) wraps mpe2 `simple_line_v1`.
"""

from __future__ import annotations

from typing import Any

from mpe2 import simple_line_v1

from games import scripted
from games.formation_core import batch_maker
from games.mpe_core import agent_positions
from games.simple_spread import ARROWS
from games.spec import GameSpec

OPTIONS: dict[str, Any] = {"N": 4, "max_cycles": 25, "continuous_actions": False, "dynamic_rescaling": True,
                           "terminate_on_success": False}



SPEC = GameSpec(
    name="simple_line",
    summary="N agents stand evenly spaced on the line between two landmarks (mpe2)",
    env_fn=simple_line_v1.parallel_env,
    options=OPTIONS,
    option_limits={"N": (2, 16)},
    key_maps={"agent": ARROWS},
    batch_core=batch_maker("line"),
    scripted=scripted.simple_line,
    agent_positions=agent_positions,
)
