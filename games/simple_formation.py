"""simple_formation (mpe2 `simple_formation_v1`): N agents stand evenly spaced on a circle round a landmark.

Agents: `agent_0 .. agent_{N-1}` (one role, `agent`), colliding, silent. The landmark lies in [-0.5, 0.5]^2; the
circle has radius 0.5, its first slot at the smallest angle at which any agent is seen from the landmark, the
others every 2 pi / N after it. Observation (6): own velocity (2), own position (2), the landmark relative to the
agent (2); the agents do not see each other. Actions: Discrete(5) = no-op, left, right, down, up
(`continuous_actions=True`: Box(0, 1, (5,))). Reward, every agent the same: minus the mean distance of the agents
from the slots, each agent matched to a slot by least total distance, each distance clipped to [0, 2]. Team
reward: the mean over agents (that same number).
Options (mpe2 defaults): N=4, max_cycles=25, continuous_actions=False, dynamic_rescaling=True,
terminate_on_success=False.

`FormationBatch` (games/formation_core.py) plays B games at once, discrete or continuous, for N <= 6 without
`terminate_on_success`; `tests/test_formation_cores.py` proves it equal to mpe2 over whole episodes.
Scripted plan (`games.scripted.simple_formation`): agent i steers to the point at angle 2 pi i / N on the circle.

Version history: v1 (this project) wraps mpe2 `simple_formation_v1`.
"""

from __future__ import annotations

from typing import Any

from mpe2 import simple_formation_v1

from games import scripted
from games.formation_core import batch_maker
from games.mpe_core import agent_positions
from games.simple_spread import ARROWS
from games.spec import GameSpec

OPTIONS: dict[str, Any] = {"N": 4, "max_cycles": 25, "continuous_actions": False, "dynamic_rescaling": True,
                           "terminate_on_success": False}



SPEC = GameSpec(
    name="simple_formation",
    summary="N agents stand evenly spaced on a circle round a landmark (mpe2)",
    env_fn=simple_formation_v1.parallel_env,
    options=OPTIONS,
    option_limits={"N": (2, 16)},
    key_maps={"agent": ARROWS},
    batch_core=batch_maker("circle"),
    scripted=scripted.simple_formation,
    agent_positions=agent_positions,
)
