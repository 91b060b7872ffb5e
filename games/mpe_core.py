"""mpe2's world for B games at once in numpy: the physics under the batched simple_spread,
simple_speaker_listener and simple_reference cores.

A game lists its agents as `Body`s (mpe2's `Agent` attributes that matter), draws its start with
`start_draws` and steps a `World` with each agent's move and word. The world does what mpe2's
`SimpleEnv._set_action` + `World.step` (`mpe2/_mpe_utils/core.py`) do, in the same order and in float64:
action forces, soft contact forces between colliding agents, position moved with the old velocity, damping,
velocity updated, then each speaking agent's one-hot word stored as its communication state `c`.

Scope: what the three games use. Landmarks never move or collide; agents have mass 1, accel 5 (mpe2's
default sensitivity), no max speed and no noise, as none of these scenarios change those defaults.
Observations and rewards stay with each game: they are the scenario, not the world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

# mpe2 constants (core.World, SimpleEnv._set_action).
DT = 0.1
DAMPING = 0.25
CONTACT_FORCE = 1e2
CONTACT_MARGIN = 1e-3
SENSITIVITY = 5.0
# Discrete move -> unit direction (no-op, left, right, down, up), as `_set_action` decodes it.
MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.float64)  # (5, 2)


def box_numbers(actions: np.ndarray) -> np.ndarray:
    """Continuous actions as mpe2 gets them: float32, clipped to its Box(0, 1) (ClipOutOfBoundsWrapper)."""
    return np.clip(np.asarray(actions, dtype=np.float32), np.float32(0), np.float32(1))


@dataclass(frozen=True)
class Body:
    """One agent's physical description; the defaults are mpe2's `Agent` defaults."""

    size: float = 0.05
    collide: bool = True
    movable: bool = True
    silent: bool = False


def start_draws(
    seeds: Sequence[int], n_agents: int, n_landmarks: int, goal_draws: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The random start of `env.reset(seed=s)` for each seed: goal landmarks `(B, goal_draws)` int, agent
    positions `(B, n, 2)`, landmark positions `(B, L, 2)`.

    mpe2 seeds `gymnasium.utils.seeding.np_random(seed)` (= `np.random.default_rng(seed)`) and each scenario's
    `reset_world` first picks its goal landmarks, one `integers(L)` call each (one call of size k would use
    the generator differently), then draws `uniform(-1, 1, 2)` per agent and then per landmark; one `(n + L, 2)`
    draw gives the same numbers. GRPO repeats each seed G times, so each distinct seed is drawn once.
    """
    unique, inverse = np.unique(np.asarray(seeds, dtype=np.int64), return_inverse=True)
    goals = np.zeros((len(unique), goal_draws), dtype=np.int64)  # (U, G)
    positions = np.zeros((len(unique), n_agents + n_landmarks, 2))  # (U, n + L, 2)
    for u, seed in enumerate(unique):
        rng = np.random.default_rng(int(seed))
        goals[u] = [rng.integers(n_landmarks) for _ in range(goal_draws)]
        positions[u] = rng.uniform(-1, 1, (n_agents + n_landmarks, 2))
    positions = positions[inverse]  # (B, n + L, 2)
    return goals[inverse], positions[:, :n_agents], positions[:, n_agents:]


class World:
    """B copies of one mpe2 world: agents `(B, n, ...)` that move, push and speak; fixed landmarks `(B, L, 2)`."""

    def __init__(self, num_envs: int, bodies: Sequence[Body], n_landmarks: int, dim_c: int) -> None:
        n = len(bodies)
        self.pos = np.zeros((num_envs, n, 2))  # (B, n, 2) agent positions
        self.vel = np.zeros((num_envs, n, 2))  # (B, n, 2) agent velocities
        self.landmarks = np.zeros((num_envs, n_landmarks, 2))  # (B, L, 2) landmark positions
        self.comm = np.zeros((num_envs, n, dim_c))  # (B, n, C) each agent's `state.c`, 0 for silent agents
        # Fixed agents take no force, so with zero velocity they stay exactly where they are.
        self._movable = np.array([[b.movable] for b in bodies], dtype=np.float64)  # (n, 1)
        self._speaks = np.array([[not b.silent] for b in bodies], dtype=np.float64)  # (n, 1)
        self._words = np.eye(dim_c)  # (C, C) word -> one-hot `c`
        # Unordered colliding pairs (i < j), as mpe2 loops them, and their incidence (+1 at i, -1 at j): a
        # pair's contact force pushes i by +f and j by -f, so `f @ incidence` sums every agent's contact forces.
        colliders = np.array([i for i, b in enumerate(bodies) if b.collide], dtype=np.int64)
        first, second = np.triu_indices(len(colliders), k=1)
        self.pair_i, self.pair_j = colliders[first], colliders[second]  # (P,) each
        sizes = np.array([b.size for b in bodies])
        self.touch_distance = sizes[self.pair_i] + sizes[self.pair_j]  # (P,) distance at which a pair touches
        self.incidence = np.zeros((len(self.pair_i), n))  # (P, n)
        self.incidence[np.arange(len(self.pair_i)), self.pair_i] = 1.0
        self.incidence[np.arange(len(self.pair_i)), self.pair_j] = -1.0

    def start(self, seeds: Sequence[int], goal_draws: int = 0) -> np.ndarray:
        """Every game from its seed, exactly as `env.reset(seed=s)` places it (`start_draws`); returns the
        goal landmarks the scenario drew first, `(B, goal_draws)`."""
        if len(seeds) != len(self.pos):
            raise ValueError(f"need {len(self.pos)} seeds, got {len(seeds)}")
        goals, agents, landmarks = start_draws(seeds, self.pos.shape[1], self.landmarks.shape[1], goal_draws)
        self.reset(agents, landmarks)
        return goals

    def reset(self, agents: np.ndarray, landmarks: np.ndarray) -> None:
        """Place agents `(B, n, 2)` and landmarks `(B, L, 2)`; everyone still and silent, as `reset_world` does."""
        self.pos = agents.copy()
        self.landmarks = landmarks.copy()
        self.vel = np.zeros_like(self.pos)
        self.comm = np.zeros_like(self.comm)

    def relabel(self, sigma: Sequence[int], words: bool = False) -> None:
        """Landmark k becomes landmark sigma[k] in every game (and with `words`, word k becomes word sigma[k]
        in what every agent is saying): the state of the relabelled game (`games.symmetry`)."""
        sigma = np.asarray(sigma, dtype=np.int64)
        landmarks = np.empty_like(self.landmarks)
        landmarks[:, sigma] = self.landmarks
        self.landmarks = landmarks
        if words:
            comm = self.comm.copy()
            comm[..., sigma] = self.comm[..., : len(sigma)]
            self.comm = comm

    def step(self, move: np.ndarray, say: np.ndarray | None = None) -> None:
        """One `_set_action` + `World.step`: move `(B, n)` in 0..4, or with continuous actions `(B, n, 5)` float32
        numbers within [0, 1] (no-op, left, right, down, up: the force is right - left, up - down, worked in float32
        as mpe2 subtracts the action's own numbers); say `(B, n)` word index, or with continuous actions `(B, n, C)`
        float32 numbers, which mpe2 keeps as the word itself (`agent.action.c = action`, no noise).

        Moves of fixed agents and words of silent agents are ignored (any valid index will do); `say` may be
        None when every agent is silent.
        """
        move = np.asarray(move)
        if move.ndim == 3:  # continuous: u = a[2] - a[1], a[4] - a[3], then times the sensitivity in float64
            pushed = move[..., [2, 4]].astype(np.float32) - move[..., [1, 3]].astype(np.float32)  # (B, n, 2)
            force = pushed.astype(np.float64) * SENSITIVITY
        else:
            force = MOVES[move] * SENSITIVITY  # (B, n, 2) action forces
        if len(self.pair_i):
            # Soft contact (World.get_collision_force): f = contact * delta / dist * softplus(-(dist - d_min) / k) * k
            delta, dist = self.pairs()  # (B, P, 2) = p_i - p_j, (B, P)
            penetration = np.logaddexp(0, -(dist - self.touch_distance) / CONTACT_MARGIN) * CONTACT_MARGIN
            contact = CONTACT_FORCE * delta / dist[..., None] * penetration[..., None]  # (B, P, 2)
            force = force + np.einsum("bpk,pn->bnk", contact, self.incidence)  # (B, n, 2)
        self.pos = self.pos + self.vel * DT  # position moves with the old velocity (mpe2 order)
        self.vel = self.vel * (1 - DAMPING) + force * self._movable * DT  # mass 1, no max speed
        if self._speaks.any():  # (B, n, C) update_agent_state, after the physics
            say = np.asarray(say)
            words = say.astype(np.float32).astype(np.float64) if say.ndim == 3 else self._words[say]
            self.comm = words * self._speaks

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Colliding pairs' offsets `p_i - p_j` `(B, P, 2)` and distances `(B, P)`."""
        delta = self.pos[:, self.pair_i] - self.pos[:, self.pair_j]  # (B, P, 2)
        return delta, np.sqrt(np.sum(np.square(delta), axis=-1))

    def to_landmarks(self) -> np.ndarray:
        """Every landmark relative to every agent `(B, n, L, 2)`, as the scenarios observe them."""
        return self.landmarks[:, None] - self.pos[:, :, None]

    def state(self) -> np.ndarray:
        """Physical state `(B, 2n + L, 2)`: positions, velocities, landmarks (for checksums and parity)."""
        return np.concatenate([self.pos, self.vel, self.landmarks], axis=1)


def agent_positions(env: Any) -> dict[str, tuple[float, float]]:
    """Where an mpe2 env last drew each agent, in its frame's pixels (`SimpleEnv.draw`'s camera transform)."""
    raw = env.unwrapped
    cam = np.max(np.abs(np.array([e.state.p_pos for e in raw.world.entities])))
    out = {}
    for agent in raw.world.agents:
        x, y = agent.state.p_pos
        out[agent.name] = ((x / cam) * raw.width // 2 * 0.9 + raw.width // 2,
                           (-y / cam) * raw.height // 2 * 0.9 + raw.height // 2)
    return out
