"""`PursuitBatch`: PettingZoo sisl `pursuit_v5` for B games at once in numpy, step for step the same game.

One parallel step of the reference is n AEC steps, one per pursuer, each calling `Pursuit.step`
(pettingzoo/sisl/pursuit/pursuit_base.py); `aec_to_parallel` adds up the rewards of all n. Unrolled:

1. Pursuers 0..n-1 move one after another; the map's edge and its central building stop a move, pursuers may
   share a cell. After each move every pursuer earns tag_reward / n per evader on its 4 neighbouring cells
   (clipped to the map, so at the edge it also counts evaders on its own cell). Evaders hold still meanwhile,
   so pursuer k is scored n times, k times at its old cell and n - k times at its new one.
2. After the last move an evader is caught when pursuers hold as many of its neighbouring cells as
   `need_to_surround` says are open (`surround=True`), or when n_catch pursuers stand on it. Every pursuer that
   took part earns catch_reward once, however many evaders it helped catch; caught evaders leave.
3. The remaining evaders move at random, one `rng.integers(5)` each in order (none with freeze_evaders).
4. Every pursuer gets urgency_reward; then rewards are shared: local_ratio * own + (1 - local_ratio) * mean,
   with local_ratio = 0 when shared_reward.
5. The episode ends when no evader is left (termination) or after exactly max_cycles steps (truncation).
6. Every pursuer observes the window around it on the new state, returned even on the last step.

Randomness is the reference's own: `env.reset(seed=s)` makes `np.random.default_rng(s)`, which places the
pursuers and then the evaders (rejection sampling, replayed here call for call) and afterwards draws every
evader move. numpy draws an array of bounded integers exactly as it draws them one by one (one 32-bit output
of the generator each), so each env keeps its generator and a buffer of its next moves, refilled in one call
when it runs low, and the j-th evader move of an episode is the j-th number of that stream. Same seed and
same actions give the same episode; `tests/test_pursuit_core.py` checks it against PettingZoo.
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
from pettingzoo.sisl.pursuit.utils.two_d_maps import rectangle_map

# Action -> (dx, dy): left, right, up, down, stay (DiscreteAgent.motion_range).
MOVES = np.array([[-1, 0], [1, 0], [0, 1], [0, -1], [0, 0]], dtype=np.int64)
STAY = 4
# The 4 neighbouring cells (Pursuit.surround_mask).
NEIGHBOURS = np.array([[-1, 0], [1, 0], [0, 1], [0, -1]], dtype=np.int64)


def surround_need(walls: np.ndarray) -> np.ndarray:
    """`(X, Y)` how many pursuers must surround an evader on each cell (`Pursuit.need_to_surround`).

    4, less one per map edge the cell touches, less its neighbouring building cells. Like the reference, a
    building cell in row or column 0 is not subtracted (it tests `0 < xn`), so such a cell stays needed.
    """
    X, Y = walls.shape
    x, y = np.indices((X, Y))
    need = 4 - ((x == 0) | (x == X - 1)).astype(np.int64) - ((y == 0) | (y == Y - 1))
    for dx, dy in NEIGHBOURS:
        xn, yn = x + dx, y + dy
        counted = (0 < xn) & (xn < X) & (0 < yn) & (yn < Y)
        need -= counted & walls[np.clip(xn, 0, X - 1), np.clip(yn, 0, Y - 1)]
    return need


def start_positions(
    rng: np.random.Generator, walls: np.ndarray, n_pursuers: int, n_evaders: int, constraint_window: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pursuer `(n, 2)` and evader `(m, 2)` cells of `Pursuit.reset`, drawing from `rng` as it does.

    A spawn window (two uniforms), then each group by rejection sampling: a cell is taken when it is open and
    neither it nor a 4-neighbour holds an agent of the same group (`agent_utils.create_agents`).
    """
    X, Y = walls.shape
    x0 = rng.uniform(0.0, 1.0 - constraint_window)
    y0 = rng.uniform(0.0, 1.0 - constraint_window)
    xl, xu = int(X * x0), int(X * (x0 + constraint_window))
    yl, yu = int(Y * y0), int(Y * (y0 + constraint_window))
    groups = []
    for count in (n_pursuers, n_evaders):
        blocked = walls.copy()
        cells = np.zeros((count, 2), dtype=np.int64)
        for i in range(count):
            x, y = rng.integers(xl, xu), rng.integers(yl, yu)
            while blocked[x, y]:
                x, y = rng.integers(xl, xu), rng.integers(yl, yu)
            blocked[max(x - 1, 0) : x + 2, y] = True
            blocked[x, max(y - 1, 0) : y + 2] = True
            cells[i] = x, y
        groups.append(cells)
    return groups[0], groups[1]


class PursuitBatch:
    """B pursuit games stepped together; cells are (x, y) as the reference indexes its `(X, Y)` map."""

    def __init__(
        self,
        num_envs: int,
        x_size: int = 16,
        y_size: int = 16,
        max_cycles: int = 500,
        shared_reward: bool = True,
        n_evaders: int = 30,
        n_pursuers: int = 8,
        obs_range: int = 7,
        n_catch: int = 2,
        freeze_evaders: bool = False,
        tag_reward: float = 0.01,
        catch_reward: float = 5.0,
        urgency_reward: float = -0.1,
        surround: bool = True,
        constraint_window: float = 1.0,
        move_buffer: int = 16384,
    ) -> None:
        """`move_buffer`: evader moves drawn ahead per env (at least one step's worth); the default holds a
        whole default episode (500 steps x 30 evaders), so then the generators are only called at reset."""
        self.num_envs, self.n, self.m = num_envs, n_pursuers, n_evaders
        self.max_cycles, self.n_catch, self.surround = max_cycles, n_catch, surround
        self.freeze_evaders = freeze_evaders
        self.local_ratio = 1.0 - float(shared_reward)
        self.tag_reward, self.catch_reward, self.urgency_reward = tag_reward, catch_reward, urgency_reward
        self.constraint_window = constraint_window
        self.agents = tuple(f"pursuer_{i}" for i in range(n_pursuers))
        self.obs_range, self.obs_offset = obs_range, (obs_range - 1) // 2
        self.obs_dim = obs_range * obs_range * 3
        self.walls = rectangle_map(x_size, y_size) == -1  # (X, Y) the central building
        self.need = surround_need(self.walls)  # (X, Y)
        self.pursuers = np.zeros((num_envs, n_pursuers, 2), dtype=np.int64)  # (B, n, 2)
        self.evaders = np.zeros((num_envs, n_evaders, 2), dtype=np.int64)  # (B, m, 2)
        self.caught = np.zeros((num_envs, n_evaders), dtype=bool)  # (B, m) evaders gone
        self.evader_grid = np.zeros((num_envs, x_size, y_size), dtype=np.int64)  # (B, X, Y) evaders per cell
        self.steps = 0
        self.alive = np.ones((num_envs, n_pursuers), dtype=bool)  # pursuers never leave before the end
        self.done = np.ones(num_envs, dtype=bool)
        # Each env's generator and its next evader moves (read from `_next_move` on).
        self._rngs: list[np.random.Generator] = []
        self._buffer = 0 if freeze_evaders else max(move_buffer, n_evaders)
        self._moves = np.zeros((num_envs, self._buffer), dtype=np.int8)  # (B, L)
        self._next_move = np.zeros(num_envs, dtype=np.int64)  # (B,)
        # The padded map behind observations: building and outside are walls (channel 0 = 1).
        X, Y, off = x_size, y_size, self.obs_offset
        self._padded = np.zeros((num_envs, X + obs_range, Y + obs_range, 3), dtype=np.float32)  # (B, X+R, Y+R, 3)
        self._padded[..., 0] = 1.0
        self._padded[:, off : off + X, off : off + Y, 0] = self.walls

    # ---------------------------------------------------------------- reset
    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Start each game from its seed, exactly as `env.reset(seed=s)`; returns obs `(B, n, obs_dim)`."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"need {self.num_envs} seeds, got {len(seeds)}")
        # GRPO repeats each seed G times: place and draw once per distinct seed, then copy the generator.
        unique, inverse = np.unique(np.asarray(seeds, dtype=np.int64), return_inverse=True)
        rngs, moves = [], np.zeros((len(unique), self._buffer), dtype=np.int8)
        pursuers, evaders = np.zeros((len(unique), self.n, 2), np.int64), np.zeros((len(unique), self.m, 2), np.int64)
        for u, seed in enumerate(unique):
            rng = np.random.default_rng(int(seed))
            pursuers[u], evaders[u] = start_positions(rng, self.walls, self.n, self.m, self.constraint_window)
            moves[u] = rng.integers(5, size=self._buffer)
            rngs.append(rng)
        self._rngs = [copy.deepcopy(rngs[u]) for u in inverse]
        self._moves = moves[inverse]
        self._next_move[:] = 0
        self.pursuers, self.evaders = pursuers[inverse], evaders[inverse]
        self.caught[:] = False
        self.steps = 0
        self.done[:] = False
        return self._observe(np.ones(self.num_envs, dtype=bool))

    # ---------------------------------------------------------------- step
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, n)` in 0..4 -> obs `(B, n, obs_dim)` float32, rewards `(B, n)` float32, done `(B,)`."""
        live = ~self.done  # (B,) ended envs ignore their actions
        actions = np.where(live[:, None], np.asarray(actions, dtype=np.int64), STAY)  # (B, n)

        # ---- 1. pursuers move; tag rewards against the evaders as they stood at the start of the step
        old = self.pursuers
        self.pursuers = self._move(old, actions)  # (B, n, 2)
        k = np.arange(self.n)  # pursuer k is scored k times before its move and n - k times after it
        rewards = (k * self._tags(old) + (self.n - k) * self._tags(self.pursuers)) / self.n  # (B, n)

        # ---- 2. captures after the last pursuer moved
        held = self._grid(self.pursuers)  # (B, X, Y) pursuers per cell
        standing = ~self.caught & live[:, None]  # (B, m) evaders still in the game
        ex, ey = self.evaders[..., 0], self.evaders[..., 1]  # (B, m)
        if self.surround:
            around = self._neighbours(held > 0, self.evaders).sum(axis=-1)  # (B, m) held neighbouring cells
            caught_now = standing & (around == self.need[ex, ey])
            caught_grid = self._grid(self.evaders, caught_now) > 0  # (B, X, Y)
            catchers = self._neighbours(caught_grid, self.pursuers).any(axis=-1)  # (B, n) beside a caught one
        else:
            caught_now = standing & (self._read(held, ex, ey) >= self.n_catch)
            caught_grid = self._grid(self.evaders, caught_now) > 0
            catchers = self._read(caught_grid, self.pursuers[..., 0], self.pursuers[..., 1])  # (B, n) on one
        self.caught |= caught_now
        standing &= ~caught_now

        # ---- 3. the evaders left move at random, each env reading its own stream
        if not self.freeze_evaders:
            self._refill(live & (self._next_move + standing.sum(axis=1) > self._buffer))
            order = self._next_move[:, None] + np.cumsum(standing, axis=1) - 1  # (B, m) stream index of each
            drawn = np.take_along_axis(self._moves, np.clip(order, 0, self._buffer - 1), axis=1)
            self.evaders = self._move(self.evaders, np.where(standing, drawn, STAY))
            self._next_move += standing.sum(axis=1)

        # ---- 4. catch and urgency rewards, then sharing
        rewards = rewards + self.catch_reward * catchers + self.urgency_reward
        rewards = self.local_ratio * rewards + (1 - self.local_ratio) * rewards.mean(axis=1, keepdims=True)
        rewards = np.where(live[:, None], rewards, 0.0).astype(np.float32)

        # ---- 5. episode end
        self.steps += 1
        self.done |= self.caught.all(axis=1) | (self.steps >= self.max_cycles)
        return self._observe(live), rewards, self.done.copy()

    def close(self) -> None:
        """Nothing to free; here so every batch can be closed the same way."""

    # ---------------------------------------------------------------- helpers
    def _move(self, cells: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """`DiscreteAgent.step` for cells `(B, k, 2)`: a move off the map or into the building stays put."""
        X, Y = self.walls.shape
        to = cells + MOVES[actions]  # (B, k, 2)
        x, y = to[..., 0], to[..., 1]
        inside = (0 <= x) & (x < X) & (0 <= y) & (y < Y)
        ok = inside & ~self.walls[np.clip(x, 0, X - 1), np.clip(y, 0, Y - 1)]
        return np.where(ok[..., None], to, cells)

    def _grid(self, cells: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
        """Agents per cell `(B, X, Y)` from cells `(B, k, 2)`, counting only `present` `(B, k)` ones."""
        B = self.num_envs
        X, Y = self.walls.shape
        flat = (np.arange(B)[:, None] * X + cells[..., 0]) * Y + cells[..., 1]  # (B, k)
        if present is not None:
            flat = np.where(present, flat, B * X * Y)  # absent ones land in one extra bin, dropped below
        return np.bincount(flat.ravel(), minlength=B * X * Y + 1)[: B * X * Y].reshape(B, X, Y)

    def _read(self, grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """`grid[b, x, y]` for `grid` `(B, X', Y')` and indices `(B, ...)`: one flat `np.take`, several times
        faster than numpy's multi-array indexing."""
        B, X, Y = grid.shape
        b = np.arange(B).reshape((B,) + (1,) * (x.ndim - 1))
        return np.take(grid.reshape(-1), (b * X + x) * Y + y)

    def _neighbours(self, grid: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """`grid` `(B, X, Y)` at the 4 neighbouring cells of each of `cells` `(B, k, 2)` -> `(B, k, 4)`; cells
        off the map read as 0."""
        around = cells[:, :, None] + NEIGHBOURS + 1  # (B, k, 4, 2) in padded coordinates
        return self._read(np.pad(grid, ((0, 0), (1, 1), (1, 1))), around[..., 0], around[..., 1])

    def _tags(self, pursuers: np.ndarray) -> np.ndarray:
        """`Pursuit.reward`: tag_reward per evader on the 4 neighbouring cells of each pursuer `(B, n)`,
        with the cells clipped to the map as the reference does."""
        X, Y = self.walls.shape
        around = pursuers[:, :, None] + NEIGHBOURS  # (B, n, 4, 2)
        x, y = np.clip(around[..., 0], 0, X - 1), np.clip(around[..., 1], 0, Y - 1)
        return self.tag_reward * self._read(self.evader_grid, x, y).sum(axis=-1)

    def _refill(self, low: np.ndarray) -> None:
        """Envs `low` `(B,)` whose buffer cannot hold this step's moves: keep the unread ones, draw the rest."""
        for b in np.flatnonzero(low):
            unread = self._moves[b, self._next_move[b] :].copy()
            self._moves[b, : len(unread)] = unread
            self._moves[b, len(unread) :] = self._rngs[b].integers(5, size=self._buffer - len(unread))
            self._next_move[b] = 0

    def _observe(self, live: np.ndarray) -> np.ndarray:
        """`raw_env.observe` for every pursuer: the obs_range window around it of (walls, pursuers, evaders),
        indexed [y, x, channel] (the reference swaps axes) and flattened; zeros for envs not `live` `(B,)`."""
        B, R, off = self.num_envs, self.obs_range, self.obs_offset
        X, Y = self.walls.shape
        self.evader_grid = self._grid(self.evaders, ~self.caught)
        self._padded[:, off : off + X, off : off + Y, 1] = self._grid(self.pursuers)
        self._padded[:, off : off + X, off : off + Y, 2] = self.evader_grid
        i = np.arange(R)
        x = self.pursuers[..., 0, None, None] + i[None, :]  # (B, n, 1, R) window column -> padded x
        y = self.pursuers[..., 1, None, None] + i[:, None]  # (B, n, R, 1) window row -> padded y
        cell = (np.arange(B)[:, None, None, None] * (X + R) + x) * (Y + R) + y  # (B, n, R, R)
        obs = np.take(self._padded.reshape(-1, 3), cell, axis=0)  # (B, n, R, R, 3)
        if R % 2 == 0:  # an even window reaches one cell further than the reference copies: left as wall
            obs[..., R - 1, :, :] = obs[..., :, R - 1, :] = (1.0, 0.0, 0.0)
        obs[~live] = 0.0
        return obs.reshape(B, self.n, self.obs_dim)
