"""`PongBatch`: B games of cooperative_pong at once in numpy, drawing the prepared frames the env's would give.

The game is pygame rectangles on a 480x280 screen: the ball (10x10) moves by its speed each step, its position
truncated to whole pixels as pygame's `Rect` does, bounces off the top and bottom walls and off the paddles
(`Paddle._process_collision_with_rect`, the cake's four tiers tried smallest first), and leaves by the left or
right edge. The env then draws white rectangles on black and `games.frames` averages them into bands; here each
band's white pixels are counted from the rectangles directly (a rectangle covers rows x columns of a band; the
ball's overlap with a paddle is counted once), so no screen is ever drawn and the frames are the same numbers.
Start angles and bounce noise come from each game's own generator, seeded as the env seeds its own.
`tests/test_pong_core.py` proves it equal to PettingZoo over whole games.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Sequence

import numpy as np
from gymnasium.utils import seeding

from games.frames import Downscale, Frames

WIDTH, HEIGHT = 480, 280
"""The screen at PettingZoo's render_ratio 2: 960 // 2 by 560 // 2."""
BALL = 10
"""The ball's side in pixels (20 // 2)."""


def start_angle(rng: np.random.Generator) -> float:
    """`cooperative_pong.get_valid_angle`: a uniform angle, drawn again while it is within 25 degrees of the
    vertical or 10 of the horizontal."""
    a1, b1, a2, b2 = np.radians(65), np.radians(115), np.radians(245), np.radians(295)
    c1, d1, c2, d2 = np.radians(170), np.radians(190), np.radians(350), np.radians(10)
    angle = 0.0
    while (a1 < angle < b1) or (a2 < angle < b2) or (c1 < angle < d1) or (angle > c2) or (angle < d2):
        angle = 2 * np.pi * rng.random()
    return angle


def paddles(cake: bool) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int, int]]]:
    """The rectangles `(x, y offset from the first, width, height)` of the left and the right paddle, the first
    of each at the screen's edge, centred (its y at the start: `start_y`)."""
    left = [(0, 0, 10, 40)]
    if not cake:
        return left, [(WIDTH - 10, 0, 10, 50)]
    right, x, centre = [], WIDTH, 30  # each tier's right edge is the last one's left edge, all centred on y 140
    for height in (60, 40, 20, 5):
        x -= 15
        right.append((x, centre - height // 2, 15, height))
    return left, right


class PongBatch:
    """B cooperative_pong games stepped together (`reset(seeds)` / `step(actions)`), observations prepared as
    `frames` says (see the module docstring)."""

    def __init__(self, num_envs: int, ball_speed: float = 9.0, left_paddle_speed: float = 12.0,
                 right_paddle_speed: float = 12.0, cake_paddle: bool = True, max_cycles: int = 900,
                 bounce_randomness: bool = False, max_reward: float = 100.0, off_screen_penalty: float = -10.0,
                 frames: Frames | None = None) -> None:
        self.agents = ("paddle_0", "paddle_1")
        self.num_envs, B = num_envs, num_envs
        self.frames = frames or Frames()
        self.shape = self.frames.shape((HEIGHT, WIDTH, 3))  # (C, h, w)
        self.obs_dim = int(np.prod(self.shape))
        self.speed, self.bounce_randomness = float(ball_speed), bool(bounce_randomness)
        self.paddle_speed = np.array([math.trunc(left_paddle_speed), math.trunc(right_paddle_speed)])  # Rect.move
        self.max_cycles, self.max_reward, self.penalty = int(max_cycles), float(max_reward), float(off_screen_penalty)
        self.rects = paddles(cake_paddle)
        self.start_y = np.array([HEIGHT // 2 - r[0][3] // 2 for r in self.rects])  # (2,) top of each first rect
        self.heights = np.array([r[0][3] for r in self.rects])  # (2,) the first rect's, which must stay inside
        prepare = Downscale((HEIGHT, WIDTH, 3), self.frames)
        self.scale = prepare.scale  # (h, w) float32, as the env's preparation multiplies
        self.row_edges, self.col_edges = np.r_[prepare.rows, HEIGHT], np.r_[prepare.cols, WIDTH]
        self.columns = [[self._columns(rx, rw) for rx, _, rw, _ in side] for side in self.rects]
        self.rngs: list[np.random.Generator] = []
        self.ball = np.zeros((B, 2), np.int64)  # (B, 2) top-left x, y
        self.velocity = np.zeros((B, 2))  # (B, 2) float64, as the env's Python floats
        self.paddle_y = np.zeros((B, 2), np.int64)  # (B, 2) top of each paddle's first rect
        self.frames_played = np.zeros(B, np.int64)
        self.alive = np.zeros((B, 2), bool)
        self.done = np.ones(B, bool)
        self.stack = np.zeros((B, *self.shape), np.float32)

    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Every game from its seed, exactly as `env.reset(seed=s)`; obs `(B, 2, obs_dim)`."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"need {self.num_envs} seeds, got {len(seeds)}")
        self.rngs = [seeding.np_random(int(s))[0] for s in seeds]
        angles = np.array([start_angle(rng) for rng in self.rngs])
        self.ball[:] = (WIDTH // 2 - BALL // 2, HEIGHT // 2 - BALL // 2)
        self.velocity[:] = np.stack([self.speed * np.cos(angles), self.speed * np.sin(angles)], 1)
        self.paddle_y[:] = self.start_y
        self.frames_played[:] = 0
        self.alive[:], self.done[:] = True, False
        frame = self._draw(np.arange(self.num_envs))  # (B, c, h, w)
        self.stack = np.concatenate([frame] * self.frames.stack, axis=1)
        return np.repeat(self.stack.reshape(self.num_envs, 1, self.obs_dim), 2, axis=1)  # both see the screen

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, 2)` in 0..2 (stay, up, down) -> obs `(B, 2, obs_dim)`, rewards `(B, 2)`, done `(B,)`.
        Games that have ended cost nothing more: every array below is of the live games only."""
        live = np.flatnonzero(~self.done)  # (L,)
        actions = np.asarray(actions)[live]
        move = np.where(actions == 1, -self.paddle_speed, np.where(actions == 2, self.paddle_speed, 0))  # (L, 2)
        moved = self.paddle_y[live] + move
        inside = (moved >= 0) & (moved + self.heights <= HEIGHT)  # Paddle.update: only moves that stay inside
        self.paddle_y[live] = np.where(inside, moved, self.paddle_y[live])
        out = np.array([self._move_one(b) for b in live.tolist()], dtype=bool)  # (L,) the ball left the screen
        rewards = np.zeros((self.num_envs, 2), np.float32)
        rewards[live] = np.where(out, np.float32(self.penalty), np.float32(self.max_reward / self.max_cycles))[:, None]
        self.frames_played[live] += ~out
        self.done[live] = out | (self.frames_played[live] >= self.max_cycles)
        self.alive[self.done] = False
        c = self.shape[0] // self.frames.stack
        self.stack[live] = np.concatenate([self.stack[live, c:], self._draw(live)], axis=1)
        obs = np.zeros((self.num_envs, 2, self.obs_dim), np.float32)
        obs[live] = self.stack[live].reshape(len(live), 1, self.obs_dim)  # both paddles see the whole screen
        return obs, rewards, self.done.copy()

    def clone_rows(self, source: np.ndarray) -> None:
        """Game i goes on as a copy of game `source[i]` `(B,)`, its frames and bounce generator included, so
        copies given the same actions play the same (GRPO's `branch_every`)."""
        source = np.asarray(source, dtype=np.int64)
        for name in ("ball", "velocity", "paddle_y", "frames_played", "alive", "done", "stack"):
            setattr(self, name, getattr(self, name)[source].copy())
        if self.bounce_randomness:  # without bounce noise nothing draws from them after the start
            self.rngs = [copy.deepcopy(self.rngs[s]) for s in source.tolist()]

    def close(self) -> None:
        """Nothing to free: no window, no pygame surface."""

    # ---------------------------------------------------------------- the ball (Ball.update2)
    def _move_one(self, b: int) -> bool:
        """Moves game `b`'s ball one step; whether it left the screen. The collisions branch on every rectangle,
        and few games are in one at a step: plain Python per game."""
        x, y = int(self.ball[b, 0]), int(self.ball[b, 1])
        vx, vy = float(self.velocity[b, 0]), float(self.velocity[b, 1])
        x, y = int(x + vx), int(y + vy)  # pygame's Rect truncates
        if not (x >= 0 and y >= 0 and x + BALL <= WIDTH and y + BALL <= HEIGHT):
            if y + BALL > HEIGHT:
                y, vy = HEIGHT - BALL, -vy
            elif y < 0:
                y, vy = 0, -vy
        if not (x >= 0 and y >= 0 and x + BALL <= WIDTH and y + BALL <= HEIGHT):
            self.ball[b], self.velocity[b] = (x, y), (vx, vy)
            return True
        side = 0 if x + BALL // 2 < WIDTH // 2 else 1
        top = int(self.paddle_y[b, side])
        for rx, dy, rw, rh in reversed(self.rects[side]):
            ry = top + dy
            if not (x < rx + rw and y < ry + rh and rx < x + BALL and ry < y + BALL):  # colliderect
                continue
            if side == 0 and x < rx + rw:
                x = rx + rw
                vx = -vx if vx < 0 else vx
            elif side == 1 and x + BALL > rx:
                x = rx - BALL
                vx = -vx if vx > 0 else vx
            if y + BALL > ry and y - vy < ry and vy > 0:
                y, vy = ry - BALL, -vy
            elif y < ry + rh and y + BALL - vy > ry + rh and vy < 0:
                y, vy = ry + rh - 1, -vy
            if self.bounce_randomness:  # Ball.update2: a small turn of the speed, its size kept
                delta = 2 * (1 / 100.0) * self.rngs[b].random() - (1 / 100.0)
                size, angle = math.sqrt(vx**2 + vy**2), math.atan2(vy, vx) + delta
                vx, vy = size * math.cos(angle), size * math.sin(angle)
            break
        self.ball[b], self.velocity[b] = (x, y), (vx, vy)
        return False

    # ---------------------------------------------------------------- the frames
    def _columns(self, x: int, width: int) -> tuple[int, int, np.ndarray]:
        """The bands `[c0, c1)` a rectangle's columns `[x, x + width)` touch, and its pixels in each."""
        widths = self._cover(np.array([x]), width, self.col_edges)[0]
        touched = np.flatnonzero(widths)
        return int(touched[0]), int(touched[-1]) + 1, widths[touched[0]: touched[-1] + 1]

    def _cover(self, start: np.ndarray, size: np.ndarray | int, edges: np.ndarray) -> np.ndarray:
        """Pixels of the interval `[start, start + size)` (clipped to the screen) inside each band: `(B, bands)`."""
        start = np.asarray(start)[..., None]
        stop = start + np.asarray(size)[..., None] if np.ndim(size) else start + size
        return np.clip(np.minimum(stop, edges[1:]) - np.maximum(start, edges[:-1]), 0, None)

    def _draw(self, games: np.ndarray) -> np.ndarray:
        """The prepared frames `(L, c, h, w)` of `games` `(L,)`: white pixels per band, from the rectangles (a
        paddle only ever covers its own columns)."""
        bx, by = self.ball[games, 0], self.ball[games, 1]
        rows, cols = self.row_edges, self.col_edges
        count = self._cover(by, BALL, rows)[:, :, None] * self._cover(bx, BALL, cols)[:, None, :]  # (L, h, w)
        for side in (0, 1):
            top = self.paddle_y[games, side]
            for (rx, dy, rw, rh), (c0, c1, widths) in zip(self.rects[side], self.columns[side]):
                ry = top + dy  # (L,)
                count[:, :, c0:c1] += self._cover(ry, rh, rows)[:, :, None] * widths
                # the ball over this rectangle: its pixels were counted twice
                x0, x1 = np.maximum(bx, rx), np.minimum(bx + BALL, rx + rw)
                y0, y1 = np.maximum(by, ry), np.minimum(by + BALL, ry + rh)
                both = np.flatnonzero((x1 > x0) & (y1 > y0))
                if len(both):
                    count[both] -= (self._cover(y0[both], (y1 - y0)[both], rows)[:, :, None]
                                    * self._cover(x0[both], (x1 - x0)[both], cols)[:, None, :])
        frame = (count * 255).astype(np.float32) * self.scale  # as the env's bands: sums of 255s, scaled
        c = self.shape[0] // self.frames.stack
        return np.repeat(frame[:, None], c, axis=1)  # grey: one channel; colour: three equal ones
