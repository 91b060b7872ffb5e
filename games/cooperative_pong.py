"""cooperative_pong (PettingZoo butterfly `cooperative_pong_v6`): two paddles keep one ball in play.

Agents: `paddle_0` (left, flat) and `paddle_1` (right, a four-tier "cake"): one role, `paddle`. Observation: the
whole 280x480 screen in colour (white paddles and ball on black), prepared as declared below (`games.frames`):
28x48 grey, the last 2 frames stacked (a frame alone does not show where the ball goes), so `(2, 28, 48)`.
Actions: Discrete(3) = stay, up, down. Reward: `max_reward / max_cycles` to each paddle for every step the ball
stays in play (100 in all over 900 steps), `off_screen_penalty` (-10) when it leaves the screen, which ends the
episode. Team reward: the mean over the two paddles (they get the same).
Options (PettingZoo defaults): ball_speed=9, left_paddle_speed=12, right_paddle_speed=12, cake_paddle=True,
max_cycles=900, bounce_randomness=False, max_reward=100, off_screen_penalty=-10.

PettingZoo 1.27 draws this game's screen only in `render()`, which does nothing without a render mode, so its
observations are black unless the env is made with `render_mode="rgb_array"`: this module always makes it so
(the game is unchanged; only the drawing happens).

`PongBatch` (games/pong_core.py) steps B games at once in numpy and draws the prepared frames without a screen;
`tests/test_pong_core.py` proves it equal to PettingZoo over whole games.

Version history: v1 (this project) wraps PettingZoo 1.27 `cooperative_pong_v6`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pettingzoo.butterfly import cooperative_pong_v6

from games.frames import Frames
from games.pong_core import PongBatch
from games.spec import GameInfo, GameSpec, KeyMap

FRAMES = Frames(height=28, width=48, grey=True, stack=2)
"""The screen in 10x10-pixel blocks (the ball's size), two frames to see where it goes: 2,688 numbers, a 150th
of the screen, which a CPU trains on (the 84x84 default costs 8 times as much per step in the CNN)."""


def make_env(render_mode: str | None = None, **options: Any) -> Any:
    """PettingZoo's parallel env, drawn every step (see the module docstring): "rgb_array" unless a person's
    window ("human") is asked for."""
    return cooperative_pong_v6.parallel_env(render_mode=render_mode or "rgb_array", **options)


def agent_positions(env: Any) -> dict[str, tuple[float, float]]:
    """Where the env last drew each paddle (the centre of its first rectangle), in pixels of its frame."""
    game = env.unwrapped.env
    return {agent: (float(paddle.rects[0].centerx), float(paddle.rects[0].centery))
            for agent, paddle in (("paddle_0", game.p0), ("paddle_1", game.p1))}


def make_batch(num_envs: int, **options: Any) -> PongBatch:
    """The vectorized core; it follows every option and draws the frames as declared (`FRAMES`)."""
    return PongBatch(num_envs, frames=FRAMES, **options)


def _rows(picture: np.ndarray) -> np.ndarray:
    """Brightness-weighted mean row of pictures `(..., rows, cols)`; nan where nothing is bright."""
    weight = picture.sum(-1)  # (..., rows)
    total = weight.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weight * np.arange(weight.shape[-1])).sum(-1) / np.where(total > 0, total, np.nan)


def hand_rule(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """The plan: each paddle moves toward the row the ball is in, as the newest frame shows them (the left
    paddle in its own first columns, the cake's widest tier in the last one, the ball between them); it stays
    when they are level or the ball is out of sight (among the cake's columns). obs `(B, 2, C * H * W)` ->
    actions `(B, 2)`."""
    channels, height, width = info.obs_shapes["paddle"]
    newest = obs[..., (channels - 1) * height * width: channels * height * width].reshape(*obs.shape[:-1], height,
                                                                                          width)
    band = 480 / width  # screen pixels per column
    left, cake = max(1, round(10 / band)), int(np.ceil(60 / band))  # the flat paddle's and the cake's columns
    ball = _rows(newest[..., :, left: width - cake])  # (B, 2)
    paddle = np.stack([_rows(newest[:, 0, :, :left]), _rows(newest[:, 1, :, width - 1:])], axis=1)  # (B, 2)
    gap = ball - paddle
    return np.where(gap < -0.5, 1, np.where(gap > 0.5, 2, 0)).astype(np.int64)


SPEC = GameSpec(
    name="cooperative_pong",
    summary="two paddles keep a ball in play, seen as pictures (PettingZoo butterfly)",
    env_fn=make_env,
    options={
        "ball_speed": 9.0,
        "left_paddle_speed": 12.0,
        "right_paddle_speed": 12.0,
        "cake_paddle": True,
        "max_cycles": 900,
        "bounce_randomness": False,
        "max_reward": 100.0,
        "off_screen_penalty": -10.0,
    },
    option_limits={"ball_speed": (1.0, 10.0), "left_paddle_speed": (1.0, 50.0), "right_paddle_speed": (1.0, 50.0),
                   "max_reward": (0.0, 1e4), "off_screen_penalty": (-1e4, 0.0), "max_cycles": (1, 10_000)},
    key_maps={"paddle": KeyMap(keys={"up": 1, "down": 2}, idle=0, help="up and down arrows move the paddle")},
    frames=FRAMES,
    batch_core=make_batch,
    scripted=hand_rule,
    agent_positions=agent_positions,
    preset={"groups": 16, "group_size": 8, "branch_every": 64, "gamma": 0.98, "minibatch_size": 8192},
)
