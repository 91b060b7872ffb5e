"""`FormationBatch`: B games of mpe2's simple_line or simple_formation at once, on the shared mpe2 world.

Both scenarios give every agent the same reward: minus the mean distance of the agents from the slots of a shape,
each agent matched to a slot by the matching of least total distance (mpe2 runs scipy's Hungarian algorithm every
step), each distance clipped to [0, 2]. simple_line's slots are N points evenly spaced from landmark 0 to landmark
1 (1.25 apart, in a random direction); simple_formation's are N points on a circle of radius 0.5 round its
landmark, the first at the smallest angle any agent has seen from the landmark. The matching here tries every
permutation (N <= MAX_EXACT, the same least total; a tie between two matchings of equal total is the one place
the two could differ). `tests/test_formation_cores.py` proves both equal to mpe2 over whole episodes.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Sequence

import numpy as np

from games.mpe_core import Body, World, box_numbers

MAX_EXACT = 6
"""Largest N whose matching tries every permutation (720); larger teams play on the generic runner."""
LINE_LENGTH = 1.25
"""simple_line's `TOTAL_SEP`: the distance between its two landmarks."""
CIRCLE_RADIUS = 0.5
"""simple_formation's `TARGET_RADIUS`."""
TURNS = 72
"""5-degree turns in a whole turn round: the most simple_line's start tries for its second landmark."""


def line_start(seeds: Sequence[int], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """simple_line's `reset_world` for each seed: agents `(B, n, 2)`, landmarks `(B, 2, 2)` and the line's
    direction `(B, 2)`: agents uniform in [-1, 1]^2, landmark 0 in [-0.25, 0.25]^2, a uniform direction turned by
    5 degrees until landmark 1 lies inside the square. Each seed's draws come from its own generator; the turns
    are tried for every game at once, each angle summed one turn at a time as mpe2 adds them."""
    agents, first, theta = np.zeros((len(seeds), n, 2)), np.zeros((len(seeds), 2)), np.zeros(len(seeds))
    for b, seed in enumerate(seeds):
        rng = np.random.default_rng(int(seed))
        agents[b], first[b] = rng.uniform(-1, 1, (n, 2)), rng.uniform(-0.25, 0.25, 2)
        theta[b] = rng.uniform(0, 2 * np.pi)
    turns = np.concatenate([theta[:, None], np.full((len(seeds), TURNS), np.radians(5))], axis=1)
    thetas = np.add.accumulate(turns, axis=1)  # (B, TURNS + 1)
    directions = np.stack([np.cos(thetas), np.sin(thetas)], -1)  # (B, TURNS + 1, 2)
    locs = first[:, None] + LINE_LENGTH * directions
    inside = (np.abs(locs[..., 0]) < 1.0) & (np.abs(locs[..., 1]) < 1.0)
    k = np.argmax(inside, axis=1)  # a whole turn round always finds one: landmark 0 is near the middle
    rows = np.arange(len(seeds))
    return agents, np.stack([first, locs[rows, k]], axis=1), directions[rows, k]


def circle_start(seeds: Sequence[int], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """simple_formation's `reset_world` for each seed: agents uniform in [-1, 1]^2 `(B, n, 2)`, its landmark in
    [-0.5, 0.5]^2 `(B, 1, 2)` (no direction: `(B, 2)` zeros)."""
    agents, landmark = np.zeros((len(seeds), n, 2)), np.zeros((len(seeds), 1, 2))
    for b, seed in enumerate(seeds):
        rng = np.random.default_rng(int(seed))
        agents[b], landmark[b] = rng.uniform(-1, 1, (n, 2)), rng.uniform(-0.5, 0.5, (1, 2))
    return agents, landmark, np.zeros((len(seeds), 2))


def batch_maker(shape: str) -> Callable[..., "FormationBatch | None"]:
    """A game's `batch_core`: the core for up to MAX_EXACT agents that play every step (no early end on
    success); None (the generic runner) for other options."""
    def make_batch(num_envs: int, **kwargs: Any) -> FormationBatch | None:
        if kwargs["N"] > MAX_EXACT or kwargs["terminate_on_success"]:
            return None
        return FormationBatch(num_envs, shape, kwargs["N"], kwargs["max_cycles"], kwargs["continuous_actions"])

    return make_batch


class FormationBatch:
    """B simple_line (`shape="line"`) or simple_formation (`shape="circle"`) games stepped together."""

    def __init__(self, num_envs: int, shape: str, N: int = 4, max_cycles: int = 25, continuous: bool = False) -> None:
        if shape not in ("line", "circle"):
            raise ValueError(f"shape must be line or circle, got {shape!r}")
        self.shape, self.num_envs, self.n, self.max_cycles, self.continuous = shape, num_envs, N, max_cycles, continuous
        self.agents = tuple(f"agent_{i}" for i in range(N))
        landmarks = 2 if shape == "line" else 1
        self.obs_dim = 4 + 2 * landmarks
        size = 0.03 if shape == "line" else 0.05  # the scenarios' agent sizes (they collide)
        self.world = World(num_envs, [Body(size=size, silent=True)] * N, n_landmarks=landmarks, dim_c=0)
        self.direction = np.zeros((num_envs, 2))  # (B, 2) simple_line's direction from landmark 0 to 1
        self.line: np.ndarray | None = None  # (B, N, 2) simple_line's slots, set by `reset`
        self.perms = np.array(list(itertools.permutations(range(N))))  # (P, N)
        self.steps = 0
        self.alive = np.ones((num_envs, N), dtype=bool)
        self.done = np.ones(num_envs, dtype=bool)

    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Every game from its seed, exactly as `env.reset(seed=s)`; obs `(B, N, obs_dim)`."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"need {self.num_envs} seeds, got {len(seeds)}")
        agents, landmarks, self.direction = (line_start if self.shape == "line" else circle_start)(seeds, self.n)
        self.world.reset(agents, landmarks)
        self.line = self._line() if self.shape == "line" else None  # (B, N, 2): a line's slots never move
        self.steps = 0
        self.done[:] = False
        return self._observe()

    def state(self) -> np.ndarray:
        """Positions, velocities, landmarks `(B, 2N + L, 2)` (for checksums and parity)."""
        return self.world.state()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, N)` in 0..4 (continuous: `(B, N, 5)` numbers, clipped to [0, 1]) -> obs `(B, N, obs_dim)`,
        rewards `(B, N)` float32 (everyone the team's), done `(B,)`."""
        if self.continuous:
            self.world.step(box_numbers(actions))
        else:
            self.world.step(np.asarray(actions, dtype=np.int64))
        self.steps += 1
        reward = -self._matched_distances().clip(0, 2).mean(-1)  # (B,)
        self.done[:] = self.steps >= self.max_cycles
        return self._observe(), np.repeat(reward[:, None], self.n, 1).astype(np.float32), self.done.copy()

    def close(self) -> None:
        """Nothing to free."""

    def slots(self) -> np.ndarray:
        """The shape's slots `(B, N, 2)`, where the scenario expects the agents now."""
        if self.shape == "line":
            return self.line
        n, first = self.n, self.world.landmarks[:, 0]  # (B, 2)
        rel = self.world.pos - first[:, None]  # (B, N, 2)
        angles = np.arctan2(rel[..., 1], rel[..., 0])
        theta = np.where(angles < 0, angles + 2 * np.pi, angles).min(-1)  # (B,) mpe2's _find_angle, smallest
        around = theta[:, None] + np.arange(n) * (2 * np.pi / n)  # (B, N)
        return first[:, None] + CIRCLE_RADIUS * np.stack([np.cos(around), np.sin(around)], -1)

    def _line(self) -> np.ndarray:
        """simple_line's slots `(B, N, 2)`: N points evenly spaced from landmark 0 toward landmark 1."""
        gap = LINE_LENGTH / (self.n - 1) if self.n > 1 else 0.0
        return self.world.landmarks[:, 0][:, None] + np.arange(self.n)[None, :, None] * gap * self.direction[:, None]

    def _matched_distances(self) -> np.ndarray:
        """Each agent's distance to its slot under the matching of least total distance `(B, N)`."""
        dist = np.linalg.norm(self.world.pos[:, :, None] - self.slots()[:, None], axis=-1)  # (B, agent, slot)
        n = self.n
        totals = dist[:, np.arange(n), self.perms].sum(-1)  # (B, P)
        best = self.perms[np.argmin(totals, axis=-1)]  # (B, N) each agent's slot
        return np.take_along_axis(dist, best[..., None], axis=-1)[..., 0]

    def _observe(self) -> np.ndarray:
        """mpe2's observation: own velocity, own position, each landmark relative to the agent (float32)."""
        B, n = self.num_envs, self.n
        obs = np.zeros((B, n, self.obs_dim), np.float32)
        obs[..., 0:2] = self.world.vel
        obs[..., 2:4] = self.world.pos
        obs[..., 4:] = self.world.to_landmarks().reshape(B, n, -1)
        return obs
