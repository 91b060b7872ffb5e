"""Image observations, prepared once for every caller: downscaled, made grey, stacked over the last steps.

PettingZoo's image games (pistonball, cooperative_pong, knights_archers_zombies without its vector state) give
each agent a uint8 picture of the screen, 100k-400k numbers a step, from which a single frame does not show
which way the ball goes. CleanRL's `ppo_pettingzoo_ma_atari.py` prepares them with SuperSuit (grey, 84x84, 4
frames stacked) before its CNN; here the game declares how (`Frames`, on its GameSpec) and `FrameObservations`
wraps the env so that training, matches, replays, the viewer and a person's play all see the same prepared
observation: a float32 `(stack * channels, height, width)` Box in [0, 1], newest frame last, flattened like
every other observation in batches. The policy reads it with a CNN (`league.policy.ImageNet`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

GREY = np.array([0.299, 0.587, 0.114], np.float32)
"""ITU-R BT.601 luma, what OpenCV's RGB2GRAY (and so SuperSuit's color_reduction) uses."""
MAX_SIDE = 512
"""Largest prepared image side: a policy's first layer grows with the picture."""
MAX_STACK = 16
"""Most frames stacked."""
MAX_NUMBERS = 1_000_000
"""Most numbers a prepared observation may have (checkpoints refuse wider observations)."""


@dataclass(frozen=True)
class Frames:
    """How a game's image observations are prepared before a policy sees them (the env's own stay as they are).

    The defaults are Atari's (Mnih et al. 2015, CleanRL's multi-agent Atari): enough to see motion at a cost a
    CPU can train on."""

    height: int = 84
    """Rows after downscaling (each is the mean of the source rows it covers); at most the source's rows."""
    width: int = 84
    """Columns after downscaling; at most the source's columns."""
    grey: bool = True
    """One luma channel instead of the colours (a third of the numbers; colour rarely matters for motion)."""
    stack: int = 4
    """How many of the last frames an observation holds (1: the current one only). At the start of an episode
    the first frame fills the stack, so no step sees frames of another episode."""

    def problem(self) -> str | None:
        """Why these settings cannot be used (one phrase), or None."""
        for name, value, high in (("height", self.height, MAX_SIDE), ("width", self.width, MAX_SIDE),
                                  ("stack", self.stack, MAX_STACK)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
                return f"frames {name} must be a whole number from 1 to {high}, got {value!r:.40}"
        if not isinstance(self.grey, bool):
            return f"frames grey must be true or false, got {self.grey!r:.40}"
        return None

    def too_big(self, image: tuple[int, ...]) -> str | None:
        """Why a source image `(height, width[, channels])` prepared this way would be too big, or None."""
        numbers = int(np.prod(self.shape(image)))
        if numbers > MAX_NUMBERS:
            return (f"pictures of {image} prepared as {self.describe()} are {numbers:,} numbers, more than "
                    f"{MAX_NUMBERS:,}: lower its frames' height, width or stack, or make them grey")
        return None

    def shape(self, image: tuple[int, ...]) -> tuple[int, int, int]:
        """The prepared `(channels, height, width)` of a source image `(height, width[, channels])`."""
        rows, cols = image[0], image[1]
        channels = 1 if self.grey or len(image) == 2 else image[2]
        return self.stack * channels, min(self.height, rows), min(self.width, cols)

    def as_dict(self) -> dict[str, Any]:
        """The settings as stored with a checkpoint (`league.checkpoints`)."""
        return asdict(self)

    def describe(self) -> str:
        """A few words for `league games`: "grey 84x84, 4 frames"."""
        return f"{'grey' if self.grey else 'colour'} {self.height}x{self.width}, {self.stack} frame" + \
            ("s" if self.stack != 1 else "")


DEFAULT_FRAMES = Frames()
"""What a game that declares nothing gets when its observations are images."""


def image_shape(space: Any) -> tuple[int, ...] | None:
    """The `(height, width[, channels])` of an observation space that is a picture: a uint8 Box of two axes, or
    of three with 1, 3 or 4 channels last, each side at least 8 pixels; None for anything else (pursuit's
    7x7x3 float grid is a table of numbers, not a picture)."""
    if type(space).__name__ != "Box" or np.dtype(space.dtype) != np.uint8:
        return None
    shape = tuple(int(d) for d in space.shape)
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, 3, 4)) or min(shape[:2]) < 8:
        return None
    return shape


def _edges(source: int, target: int) -> np.ndarray:
    """Where each of `target` equal bands of `source` pixels starts: `np.add.reduceat`'s indices."""
    return np.floor(np.arange(target) * source / target).astype(np.intp)


class Downscale:
    """One image kind's preparation: `(height, width[, channels])` uint8 -> `(channels', h, w)` float32 in [0, 1],
    each output pixel the mean of the source pixels in its band (an area filter: a 3-pixel ball still shows)."""

    def __init__(self, image: tuple[int, ...], frames: Frames) -> None:
        self.grey, self.colour = frames.grey, len(image) == 3
        _, self.h, self.w = frames.shape(image)
        self.rows, self.cols = _edges(image[0], self.h), _edges(image[1], self.w)
        counts_r = np.diff(np.r_[self.rows, image[0]]).astype(np.float32)
        counts_c = np.diff(np.r_[self.cols, image[1]]).astype(np.float32)
        self.scale = 1.0 / (255.0 * np.outer(counts_r, counts_c))  # (h, w)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        x = np.asarray(image, dtype=np.float32)  # (H, W[, C])
        if self.colour and self.grey:  # RGB(A): luma; one channel: itself
            x = x[..., :3] @ GREY if x.shape[-1] >= 3 else x[..., 0]  # (H, W)
        sums = np.add.reduceat(np.add.reduceat(x, self.rows, axis=0), self.cols, axis=1)  # (h, w[, C])
        if sums.ndim == 2:
            return (sums * self.scale)[None]  # (1, h, w)
        return np.moveaxis(sums * self.scale[..., None], -1, 0)  # (C, h, w)


class FrameObservations:
    """A parallel env whose image observations come prepared (`Frames`); every other attribute, space and
    observation is the env's own. Each agent keeps its last `stack` prepared frames."""

    def __init__(self, env: Any, frames: Frames, images: dict[str, tuple[int, ...]]) -> None:
        """`images`: agent -> its source image shape (`image_shape`), for the agents whose observations are
        pictures."""
        import gymnasium

        self.env, self.frames = env, frames
        self._prepare = {a: Downscale(shape, frames) for a, shape in images.items()}
        self.prepared = {a: gymnasium.spaces.Box(0.0, 1.0, frames.shape(shape), np.float32)
                         for a, shape in images.items()}
        """Agent -> its prepared observation space, for the agents whose observations are pictures."""
        self._stacks: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("env", "frames", "prepared"):
            raise AttributeError(name)
        return getattr(self.env, name)

    def observation_space(self, agent: str) -> Any:
        return self.prepared.get(agent) or self.env.observation_space(agent)

    def action_space(self, agent: str) -> Any:
        return self.env.action_space(agent)

    def _see(self, observations: dict[str, Any], first: bool) -> dict[str, Any]:
        out = {}
        for agent, obs in observations.items():
            prepare = self._prepare.get(agent)
            if prepare is None:
                out[agent] = obs
                continue
            frame = prepare(obs)  # (c, h, w)
            stack = self._stacks.get(agent)
            if first or stack is None:
                stack = np.concatenate([frame] * self.frames.stack)
            else:  # drop the oldest frame's channels, append the newest
                stack = np.concatenate([stack[len(frame):], frame])
            self._stacks[agent] = stack
            out[agent] = stack.copy()
        return out

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        self._stacks = {}
        observations, infos = self.env.reset(seed=seed, options=options)
        return self._see(observations, first=True), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        return self._see(observations, first=False), rewards, terminations, truncations, infos

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()
