"""pursuit (PettingZoo sisl `pursuit_v5`): pursuers surround randomly moving evaders on a grid.

Agents: `pursuer_0 .. pursuer_7` (one role, `pursuer`). The 16x16 map has a building in its middle (x 5..11,
y 4..12) that nobody can enter. Observation: a 7x7x3 window around the pursuer (walls and the outside,
pursuers, evaders per cell), flattened to 147. Actions: Discrete(5) = left, right, up, down, stay. Evaders
move at random. Reward: +5 to each pursuer beside an evader when it is caught (every open cell around it held),
+0.01 for touching one, -0.1 every step; shared across pursuers with `shared_reward`. The episode ends when
every evader is caught or at max_cycles.
Team reward: mean over pursuers.
Options (PettingZoo defaults): x_size=16, y_size=16, max_cycles=500, shared_reward=True, n_evaders=30,
n_pursuers=8, obs_range=7, n_catch=2, freeze_evaders=False, tag_reward=0.01, catch_reward=5.0,
urgency_reward=-0.1, surround=True, constraint_window=1.0.

`PursuitBatch` (games/pursuit_core.py) steps B games at once in numpy, with every option above and the
reference's own random numbers (same seed and actions, same episode), some 280x the PettingZoo loop
(`league bench env --game pursuit`).
`tests/test_pursuit_core.py` proves it equal to PettingZoo over whole episodes (observations exact, rewards
within 1e-5, the same ending step), captures and all-caught endings included.

Version history: v1 (this project) wraps PettingZoo 1.27 `pursuit_v5`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pettingzoo.sisl import pursuit_v5
from pettingzoo.sisl.pursuit.utils.two_d_maps import rectangle_map

from games import scripted, styles
from games.pursuit_core import PursuitBatch
from games.spec import GameSpec, KeyMap


def agent_positions(env: Any) -> dict[str, tuple[float, float]]:
    """Where pursuit last drew each pursuer: the centre of its grid cell, in pixels."""
    base = env.unwrapped.env
    scale = base.pixel_scale
    return {f"pursuer_{i}": (scale * x + scale / 2, scale * y + scale / 2)
            for i, (x, y) in ((i, base.pursuer_layer.get_position(i)) for i in range(base.pursuer_layer.n_agents()))}


def placeable(x_size: int, y_size: int, n_pursuers: int, n_evaders: int, constraint_window: float,
              **_: Any) -> str | None:
    """None when every reset can place its agents; else why not. PettingZoo draws random cells until it finds
    one off the building and not beside an agent of the same kind already placed (each placed agent takes its
    cell and four neighbours), inside a start window `constraint_window` of the grid wide: with too few open
    cells in the window it draws forever. Guaranteed when the emptiest window has more than 5 (k - 1) open
    cells for k agents of a kind."""
    wx, wy = int(x_size * constraint_window), int(y_size * constraint_window)
    if wx < 1 or wy < 1:
        return f"a start window of {wx}x{wy} cells (constraint_window {constraint_window} of {x_size}x{y_size})"
    open_cells = np.pad((rectangle_map(x_size, y_size) != -1).cumsum(0).cumsum(1), ((1, 0), (1, 0)))  # (X+1, Y+1)
    windows = open_cells[wx:, wy:] - open_cells[:-wx, wy:] - open_cells[wx:, :-wy] + open_cells[:-wx, :-wy]
    fewest, most = int(windows.min()), max(n_pursuers, n_evaders)
    if fewest <= 5 * (most - 1):
        return (f"{most} agents of a kind need more than {5 * (most - 1)} open cells in the start window, the "
                f"emptiest {wx}x{wy} window of the {x_size}x{y_size} grid has {fewest}")
    return None


def make_batch(num_envs: int, **kwargs: Any) -> PursuitBatch:
    """The vectorized core; it follows every option, so no option set needs the generic runner."""
    return PursuitBatch(num_envs, **kwargs)


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
    option_limits={"x_size": (3, 100), "y_size": (3, 100), "n_pursuers": (1, 100), "n_evaders": (1, 100),
                   "obs_range": (1, 31), "n_catch": (1, 100), "constraint_window": (0.01, 1.0)},
    options_check=placeable,
    batch_core=make_batch,
    scripted=scripted.pursuit,
    stubborn=styles.StubbornPursuit,
    # 500-step episodes on the batched core: 16 groups of 8 (a 64,000-step update) and a lower, constant rate
    # went past the scripted baseline within a minute of training.
    preset={"groups": 16, "group_size": 8, "minibatch_size": 8192, "gamma": 0.95, "lr": 0.003, "lr_half_life": 0},
    agent_positions=agent_positions,
)
