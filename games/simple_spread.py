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

Batched core: `SpreadBatch` plays B games at once on `games.mpe_core.World` (mpe2's physics vectorized in
numpy), for the default discrete, fully-observed form; other option combinations run on the generic vector
runner. `tests/test_spread_core.py` proves it equals mpe2 over whole episodes from seeds the test draws.

Version history: v1 (this project) wraps mpe2 1.1 `simple_spread_v3`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from mpe2 import simple_spread_v3

from games import scripted, styles
from games.mpe_core import Body, World, agent_positions, box_numbers
from games.spec import GameSpec, KeyMap, Targets
from games.symmetry import LandmarkLayout, Symmetry, landmark_symmetries

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

class SpreadBatch:
    """B simple_spread games stepped together on the shared mpe2 world (float64 state, float32 obs like mpe2)."""

    def __init__(self, num_envs: int, N: int = 3, local_ratio: float = 0.5, max_cycles: int = 25,
                 continuous: bool = False) -> None:
        """`continuous`: actions are mpe2's Box(0, 1, (5,)) numbers (`continuous_actions=True`), clipped to it."""
        self.num_envs, self.n, self.local_ratio, self.max_cycles = num_envs, N, local_ratio, max_cycles
        self.continuous = continuous
        self.agents = tuple(f"agent_{i}" for i in range(N))
        self.obs_dim = 4 + 2 * N + 4 * (N - 1)
        # Scenario.make_world: N colliding, silent agents of size 0.15; N landmarks; 2 (unused) word channels.
        self.world = World(num_envs, [Body(size=0.15, silent=True)] * N, n_landmarks=N, dim_c=2)
        self.steps = 0
        self.alive = np.ones((num_envs, N), dtype=bool)  # nobody leaves simple_spread early
        self.done = np.ones(num_envs, dtype=bool)
        self._others = np.array([[j for j in range(N) if j != i] for i in range(N)], dtype=np.int64)  # (N, N-1)
        self._overlaps = np.abs(self.world.incidence)  # (P, N): 1 where an agent is in a pair

    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Start each game from its seed, exactly as `env.reset(seed=s)`; returns obs `(B, N, obs_dim)`."""
        self.world.start(seeds)
        self.steps = 0
        self.done[:] = False
        return self._observe(self.world.to_landmarks())

    def relabel(self, sigma: Sequence[int]) -> np.ndarray:
        """Landmark k becomes landmark sigma[k] in every game; returns the observations `(B, N, obs_dim)`."""
        self.world.relabel(sigma)
        return self._observe(self.world.to_landmarks())

    def state(self) -> np.ndarray:
        """Whole world state `(B, 3N, 2)`: positions, velocities, landmarks (for checksums and parity)."""
        return self.world.state()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, N)` in 0..4 (continuous: `(B, N, 5)` numbers, clipped to [0, 1] as mpe2's
        ClipOutOfBoundsWrapper does) -> obs `(B, N, obs_dim)` float32, rewards `(B, N)` float32, done `(B,)`."""
        if self.continuous:
            self.world.step(box_numbers(actions))
        else:
            self.world.step(np.asarray(actions, dtype=np.int64))  # silent agents: moves only
        self.steps += 1

        # ---- rewards on the new state, after every action was applied
        _, dist = self.world.pairs()  # (B, P)
        collisions = (dist < self.world.touch_distance).astype(np.float64) @ self._overlaps  # (B, N) overlaps each
        rel_landmarks = self.world.to_landmarks()  # (B, N, L, 2)
        to_landmarks = np.sqrt(np.sum(np.square(rel_landmarks), axis=-1))  # (B, N, L)
        global_reward = -to_landmarks.min(axis=1).sum(axis=1)  # (B,)
        rewards = global_reward[:, None] * (1 - self.local_ratio) - collisions * self.local_ratio
        self.done[:] = self.steps >= self.max_cycles
        return self._observe(rel_landmarks), rewards.astype(np.float32), self.done.copy()

    def _observe(self, rel_landmarks: np.ndarray) -> np.ndarray:
        """mpe2's observation for every agent, float64 maths cast to float32 like `SimpleEnv.observe`."""
        B, N = self.num_envs, self.n
        pos = self.world.pos  # (B, N, 2)
        rel_others = pos[:, self._others] - pos[:, :, None]  # (B, N, N-1, 2)
        obs = np.zeros((B, N, self.obs_dim), dtype=np.float32)  # the last 2(N-1) stay 0: silent agents
        obs[..., 0:2] = self.world.vel
        obs[..., 2:4] = pos
        obs[..., 4 : 4 + 2 * N] = rel_landmarks.reshape(B, N, -1)
        obs[..., 4 + 2 * N : 2 + 4 * N] = rel_others.reshape(B, N, -1)
        return obs

    def close(self) -> None:
        """Nothing to free; here so every batch can be closed the same way."""


def make_batch(num_envs: int, **kwargs: Any) -> SpreadBatch | None:
    """The vectorized core for the fully-observed game, discrete or continuous; None for other option sets.

    The core follows N, local_ratio, max_cycles and continuous_actions; dynamic_rescaling only changes drawing.
    Any other option away from its default changes the rules, and the generic runner plays those.
    """
    free = ("N", "local_ratio", "max_cycles", "dynamic_rescaling", "continuous_actions")
    if any(kwargs[k] != v for k, v in OPTIONS.items() if k not in free):
        return None
    return SpreadBatch(num_envs, N=kwargs["N"], local_ratio=kwargs["local_ratio"], max_cycles=kwargs["max_cycles"],
                       continuous=kwargs["continuous_actions"])


def landmark_targets(**kwargs: Any) -> dict[str, Targets]:
    """The landmarks are the places to head for: own velocity at 0, N landmarks from 4 on, then the N - 1
    other agents. Options that change the observation's layout (neighbour limits) leave the game without
    declared targets."""
    if kwargs["num_agent_neighbors"] is not None or kwargs["num_landmark_neighbors"] is not None:
        return {}
    n = kwargs["N"]
    return {"agent": Targets(velocity=0, first=4, count=n, teammates=4 + 2 * n, teammate_count=n - 1)}


def landmark_relabellings(info: Any, **kwargs: Any) -> list[Symmetry]:
    """Any order of the N landmarks is the same game: each agent sees them (obs 4 .. 4 + 2N) in that order."""
    return landmark_symmetries(kwargs["N"], {"agent": LandmarkLayout(blocks=((4, 2),))}, info)


SPEC = GameSpec(
    name="simple_spread",
    summary="cooperative navigation: N agents cover N landmarks without colliding (mpe2)",
    env_fn=simple_spread_v3.parallel_env,
    options=OPTIONS,
    option_limits={"N": (2, 32), "local_ratio": (0.0, 1.0)},  # N: PettingZoo's step is O(N^2) Python
    key_maps={"agent": ARROWS},
    batch_core=make_batch,
    targets_fn=landmark_targets,
    scripted=scripted.simple_spread,
    stubborn=styles.StubbornSpread,
    agent_positions=agent_positions,
    symmetries_fn=landmark_relabellings,
)
