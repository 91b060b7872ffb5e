"""simple_spread (mpe2 `simple_spread_v3`): cooperative navigation, the flagship game.

Agents: `agent_0 .. agent_{N-1}` (one role, `agent`). N agents must cover N landmarks while avoiding each other.
Observation (18 for N=3): own velocity (2), own position (2), landmark positions relative to self (2N), other
agents relative to self (2(N-1)), their (silent) communication (2(N-1), always 0).
Actions: Discrete(5) = no-op, left, right, down, up.
Reward per agent: (1 - local_ratio) * (-sum over landmarks of the closest agent's distance)
                  + local_ratio * (-1 per other agent it overlaps).
Team reward: mean over agents (the "mean per-agent return" people quote for this game).
Options (mpe2 defaults): N=3, local_ratio=0.5, max_cycles=25, continuous_actions=False, dynamic_rescaling=True,
curriculum=False, terminate_on_success=False, num_agent_neighbors=None, num_landmark_neighbors=None.

`SpreadBatch` is a vectorized copy of mpe2's physics (`mpe2/_mpe_utils/core.py`) for B games at once, used
for the default discrete, fully-observed form. Other option combinations run on the generic vector runner.
`tests/test_spread_core.py` proves it equals mpe2 over whole episodes.

Version history: v1 (this project) wraps mpe2 1.1 `simple_spread_v3`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from mpe2 import simple_spread_v3

from games.spec import GameSpec, KeyMap, Targets

ARROWS = KeyMap(
    keys={"left": 1, "right": 2, "down": 3, "up": 4},
    idle=0,
    help="arrow keys move; no key = drift (no-op)",
)

OPTIONS: dict[str, Any] = {
    "N": 3,
    "local_ratio": 0.5,
    "max_cycles": 25,
    "continuous_actions": False,
    "dynamic_rescaling": True,
    "curriculum": False,
    "terminate_on_success": False,
    "num_agent_neighbors": None,
    "num_landmark_neighbors": None,
}

# mpe2 world constants (core.World, Scenario.make_world, SimpleEnv._set_action).
DT = 0.1
DAMPING = 0.25
CONTACT_FORCE = 1e2
CONTACT_MARGIN = 1e-3
AGENT_SIZE = 0.15
ACCEL = 5.0
# Discrete action -> unit direction (no-op, left, right, down, up).
DIRECTIONS = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.float64)


def start_positions(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Agent and landmark positions `(n, 2)` each after `env.reset(seed=seed)`.

    mpe2 seeds `gymnasium.utils.seeding.np_random(seed)` (= `np.random.default_rng(seed)`) and draws agents
    then landmarks, each `uniform(-1, 1, 2)`; one draw of `(2n, 2)` gives the same numbers.
    """
    xy = np.random.default_rng(seed).uniform(-1, 1, (2 * n, 2))
    return xy[:n], xy[n:]


class SpreadBatch:
    """B simple_spread games stepped together with numpy (float64 state, float32 obs like mpe2)."""

    def __init__(self, num_envs: int, N: int = 3, local_ratio: float = 0.5, max_cycles: int = 25) -> None:
        self.num_envs, self.n, self.local_ratio, self.max_cycles = num_envs, N, local_ratio, max_cycles
        self.agents = tuple(f"agent_{i}" for i in range(N))
        self.obs_dim = 4 + 2 * N + 4 * (N - 1)
        self.pos = np.zeros((num_envs, N, 2))  # (B, N, 2) agent positions
        self.vel = np.zeros((num_envs, N, 2))  # (B, N, 2) agent velocities
        self.landmarks = np.zeros((num_envs, N, 2))  # (B, L=N, 2)
        self.steps = 0
        self.alive = np.ones((num_envs, N), dtype=bool)  # nobody leaves simple_spread early
        self.done = np.ones(num_envs, dtype=bool)
        self._others = np.array([[j for j in range(N) if j != i] for i in range(N)], dtype=np.int64)  # (N, N-1)
        # Unordered agent pairs (i < j), as mpe2 loops them, and their incidence (+1 at i, -1 at j): a pair's
        # contact force pushes i by +f and j by -f, so `f @ incidence` sums every agent's contact forces.
        self._pair_i, self._pair_j = np.triu_indices(N, k=1)  # (P,) each
        self._incidence = np.zeros((len(self._pair_i), N))  # (P, N)
        self._incidence[np.arange(len(self._pair_i)), self._pair_i] = 1.0
        self._incidence[np.arange(len(self._pair_i)), self._pair_j] = -1.0

    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Start each game from its seed, exactly as `env.reset(seed=s)`; returns obs `(B, N, obs_dim)`."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"need {self.num_envs} seeds, got {len(seeds)}")
        # GRPO repeats each seed G times: draw each distinct seed once.
        unique, inverse = np.unique(np.asarray(seeds, dtype=np.int64), return_inverse=True)
        starts = np.stack([np.concatenate(start_positions(int(s), self.n)) for s in unique])  # (U, 2N, 2)
        self.pos = starts[inverse, : self.n].copy()
        self.landmarks = starts[inverse, self.n :].copy()
        self.vel = np.zeros_like(self.pos)
        self.steps = 0
        self.done[:] = False
        return self._observe()

    def state(self) -> np.ndarray:
        """Whole world state `(B, 3N, 2)`: positions, velocities, landmarks (for checksums and parity)."""
        return np.concatenate([self.pos, self.vel, self.landmarks], axis=1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, N)` in 0..4 -> obs `(B, N, obs_dim)` float32, rewards `(B, N)` float32, done `(B,)`."""
        # ---- physics: one mpe2 World.step for every game at once
        force = DIRECTIONS[np.asarray(actions, dtype=np.int64)] * ACCEL  # (B, N, 2) action forces
        delta, dist = self._pairs()  # (B, P, 2) = p_i - p_j, (B, P)
        # Soft contact (World.get_collision_force): f = contact * delta / dist * softplus(-(dist - d_min) / k) * k
        penetration = np.logaddexp(0, -(dist - 2 * AGENT_SIZE) / CONTACT_MARGIN) * CONTACT_MARGIN  # (B, P)
        contact = CONTACT_FORCE * delta / dist[..., None] * penetration[..., None]  # (B, P, 2)
        force = force + np.einsum("bpk,pn->bnk", contact, self._incidence)  # (B, N, 2)
        self.pos = self.pos + self.vel * DT  # position moves with the old velocity (mpe2 order)
        self.vel = self.vel * (1 - DAMPING) + force * DT  # mass 1, no max speed
        self.steps += 1

        # ---- rewards on the new state, after every action was applied
        _, dist = self._pairs()
        collisions = (dist < 2 * AGENT_SIZE).astype(np.float64) @ np.abs(self._incidence)  # (B, N) overlaps each
        rel_landmarks = self.landmarks[:, None] - self.pos[:, :, None]  # (B, N, L, 2)
        to_landmarks = np.sqrt(np.sum(np.square(rel_landmarks), axis=-1))  # (B, N, L)
        global_reward = -to_landmarks.min(axis=1).sum(axis=1)  # (B,)
        rewards = global_reward[:, None] * (1 - self.local_ratio) - collisions * self.local_ratio
        self.done[:] = self.steps >= self.max_cycles
        return self._observe(rel_landmarks), rewards.astype(np.float32), self.done.copy()

    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        delta = self.pos[:, self._pair_i] - self.pos[:, self._pair_j]  # (B, P, 2)
        return delta, np.sqrt(np.sum(np.square(delta), axis=-1))  # (B, P)

    def _observe(self, rel_landmarks: np.ndarray | None = None) -> np.ndarray:
        """mpe2's observation for every agent, float64 maths cast to float32 like `SimpleEnv.observe`."""
        B, N = self.num_envs, self.n
        if rel_landmarks is None:
            rel_landmarks = self.landmarks[:, None] - self.pos[:, :, None]  # (B, N, L, 2)
        rel_others = self.pos[:, self._others] - self.pos[:, :, None]  # (B, N, N-1, 2)
        obs = np.zeros((B, N, self.obs_dim), dtype=np.float32)  # the last 2(N-1) stay 0: silent agents
        obs[..., 0:2] = self.vel
        obs[..., 2:4] = self.pos
        obs[..., 4 : 4 + 2 * N] = rel_landmarks.reshape(B, N, -1)
        obs[..., 4 + 2 * N : 2 + 4 * N] = rel_others.reshape(B, N, -1)
        return obs

    def close(self) -> None:
        """Nothing to free; here so every batch can be closed the same way."""


def make_batch(num_envs: int, **kwargs: Any) -> SpreadBatch | None:
    """The vectorized core for the default discrete, fully-observed game; None for other option sets.

    The core follows N, local_ratio and max_cycles; dynamic_rescaling only changes drawing. Any other option
    away from its default changes the rules, and the generic runner plays those.
    """
    free = ("N", "local_ratio", "max_cycles", "dynamic_rescaling")
    if any(kwargs[k] != v for k, v in OPTIONS.items() if k not in free):
        return None
    return SpreadBatch(num_envs, N=kwargs["N"], local_ratio=kwargs["local_ratio"], max_cycles=kwargs["max_cycles"])


def landmark_targets(**kwargs: Any) -> dict[str, Targets]:
    """The landmarks are the places to head for: own velocity at 0, N landmarks from 4 on, then the N - 1
    other agents. Options that change the observation's layout (neighbour limits) leave the game without
    declared targets."""
    if kwargs["num_agent_neighbors"] is not None or kwargs["num_landmark_neighbors"] is not None:
        return {}
    n = kwargs["N"]
    return {"agent": Targets(velocity=0, first=4, count=n, teammates=4 + 2 * n, teammate_count=n - 1)}


SPEC = GameSpec(
    name="simple_spread",
    summary="cooperative navigation: N agents cover N landmarks without colliding (mpe2)",
    env_fn=simple_spread_v3.parallel_env,
    options=OPTIONS,
    key_maps={"agent": ARROWS},
    batch_core=make_batch,
    targets_fn=landmark_targets,
)
