"""simple_reference (mpe2 `simple_reference_v3`): each agent knows the other's goal and must tell it.

Agents: `agent_0`, `agent_1` (one role, `agent`). Observation (21): own velocity, landmark positions, the goal
colour of the *other* agent, and the word the other agent said. Actions: Discrete(50) = 5 moves x 10 words
(action = move + 5 * word). Reward: (1 - local_ratio) * shared distance reward + local_ratio * own distance.
Team reward: mean over agents.
The landmarks are declared as `Targets` with 5 moves per word, so the team's network picks a landmark and steers
to it for the move, and says a word from a separate head (`league.policy.MoveAndSay`).
Options (mpe2 defaults): local_ratio=0.5, max_cycles=25, continuous_actions=False, dynamic_rescaling=True.

Batched core: `ReferenceBatch` plays B games at once on `games.mpe_core.World` (mpe2's physics and
communication vectorized in numpy), discrete or continuous (`continuous_actions=True`: Box(0, 1, (15,)), the move's 5
numbers then the word's 10, heard as they are).
`tests/test_mpe_cores.py` proves it equals mpe2 over whole episodes from seeds the test draws.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from mpe2 import simple_reference_v3

from games import scripted, styles
from games.mpe_core import Body, World, agent_positions, box_numbers
from games.spec import GameSpec, KeyMap, Targets, Words
from games.symmetry import LandmarkLayout, Symmetry, landmark_symmetries

# Scenario.reset_world: landmark colours; each agent sees the colour of the landmark the *other* must reach.
LANDMARK_COLOURS = np.array([[0.75, 0.25, 0.25], [0.25, 0.75, 0.25], [0.25, 0.25, 0.75]])  # (L, 3)


class ReferenceBatch:
    """B simple_reference games stepped together (float64 state, float32 obs like mpe2)."""

    def __init__(self, num_envs: int, local_ratio: float = 0.5, max_cycles: int = 25, continuous: bool = False) -> None:
        """`continuous`: actions are mpe2's Box numbers (`continuous_actions=True`), clipped to [0, 1]."""
        self.num_envs, self.local_ratio, self.max_cycles = num_envs, local_ratio, max_cycles
        self.continuous = continuous
        self.agents = ("agent_0", "agent_1")
        self.obs_dim = 21
        # Scenario.make_world: two non-colliding agents that move and speak one of 10 words; 3 landmarks.
        self.world = World(num_envs, [Body(collide=False)] * 2, n_landmarks=3, dim_c=10)
        self.goals = np.zeros((num_envs, 2), dtype=np.int64)  # (B, 2) agent i's goal_b: where the other must go
        self.steps = 0
        self.alive = np.ones((num_envs, 2), dtype=bool)
        self.done = np.ones(num_envs, dtype=bool)

    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Start each game from its seed, exactly as `env.reset(seed=s)`; returns obs `(B, 2, 21)`."""
        self.goals = self.world.start(seeds, goal_draws=2)  # (B, 2): agent i's goal_b
        self.steps = 0
        self.done[:] = False
        return self._observe()

    def relabel(self, sigma: Sequence[int]) -> np.ndarray:
        """Landmark k (its colour, word k) becomes landmark sigma[k] in every game; returns the observations
        `(B, 2, 21)`."""
        self.world.relabel(sigma, words=True)
        self.goals = np.asarray(sigma)[self.goals]
        return self._observe()

    def state(self) -> np.ndarray:
        """Physical state `(B, 7, 2)`: positions, velocities, landmarks."""
        return self.world.state()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, 2)` in 0..49 (continuous: `(B, 2, 15)` numbers, clipped to [0, 1] as mpe2's
        ClipOutOfBoundsWrapper does) -> obs `(B, 2, 21)` float32, rewards `(B, 2)` float32, done `(B,)`."""
        if self.continuous:
            numbers = box_numbers(actions)  # (B, 2, 15)
            self.world.step(move=numbers[..., :5], say=numbers[..., 5:15])  # action[0:mdim], then the rest
        else:
            actions = np.asarray(actions, dtype=np.int64)
            self.world.step(move=actions % 5, say=actions // 5)  # SimpleEnv._execute_world_step's decoding
        self.steps += 1
        # Scenario.reward: agent i is scored on how far the *other* agent is from agent i's goal_b.
        goals = self.world.landmarks[np.arange(self.num_envs)[:, None], self.goals]  # (B, 2, 2)
        other = self.world.pos[:, ::-1]  # (B, 2, 2) the other agent's position
        local = -np.sqrt(np.sum(np.square(other - goals), axis=-1))  # (B, 2)
        shared = local.mean(axis=1, keepdims=True)  # (B, 1) Scenario.global_reward
        rewards = shared * (1 - self.local_ratio) + local * self.local_ratio
        self.done[:] = self.steps >= self.max_cycles
        return self._observe(), rewards.astype(np.float32), self.done.copy()

    def _observe(self) -> np.ndarray:
        """Velocity (2), landmarks relative to self (6), own goal_b colour (3), the other agent's word (10)."""
        B = self.num_envs
        obs = np.empty((B, 2, self.obs_dim), dtype=np.float32)
        obs[..., 0:2] = self.world.vel
        obs[..., 2:8] = self.world.to_landmarks().reshape(B, 2, 6)
        obs[..., 8:11] = LANDMARK_COLOURS[self.goals]
        obs[..., 11:21] = self.world.comm[:, ::-1]
        return obs

    def close(self) -> None:
        """Nothing to free; here so every batch can be closed the same way."""


def make_batch(num_envs: int, **kwargs: Any) -> ReferenceBatch:
    """The vectorized core, discrete or continuous (dynamic_rescaling only changes drawing)."""
    return ReferenceBatch(num_envs, local_ratio=kwargs["local_ratio"], max_cycles=kwargs["max_cycles"],
                          continuous=kwargs["continuous_actions"])


def landmark_targets(**kwargs: Any) -> dict[str, Targets]:
    """The 3 landmarks (obs 2..7) are where an agent may be sent; its action is move + 5 * word."""
    return {"agent": Targets(velocity=0, first=2, count=3, moves=5)}


def landmark_relabellings(info: Any, **kwargs: Any) -> list[Symmetry]:
    """Relabel the 3 landmarks together with their colours and words 0..2 (words 3..9 stay): the landmarks
    (obs 2..7), the goal colour (8..10), the word heard (11..13 of 11..20) and the word said."""
    return landmark_symmetries(3, {"agent": LandmarkLayout(blocks=((2, 2), (8, 1), (11, 1)), words=True, moves=5)},
                               info)


SPEC = GameSpec(
    name="simple_reference",
    summary="two agents each know the other's goal landmark and must talk each other there (mpe2)",
    env_fn=simple_reference_v3.parallel_env,
    options={"local_ratio": 0.5, "max_cycles": 25, "continuous_actions": False, "dynamic_rescaling": True},
    option_limits={"local_ratio": (0.0, 1.0)},
    key_maps={
        # Moves only; the person always says word 0 (action = move + 5 * word).
        "agent": KeyMap(
            keys={"left": 1, "right": 2, "down": 3, "up": 4}, idle=0,
            help="arrow keys move (you always say A, the red landmark's word)"
        ),
        # With continuous_actions an action is 15 numbers: the move's 5 (no-op, left, right, down, up), then the
        # word's 10, heard as they are. No key: no-op, saying A; a held arrow pushes at full strength.
        "agent:box": KeyMap(
            keys={name: tuple(float(i == k) for i in range(15)) for name, k in
                  (("left", 1), ("right", 2), ("down", 3), ("up", 4))},
            idle=(1.0, 0.0, 0.0, 0.0, 0.0, 1.0) + (0.0,) * 9,
            help="held arrow keys push at full strength, two at once diagonally (you always say A, as numbers)"
        ),
    },
    batch_core=make_batch,
    targets_fn=landmark_targets,
    # Each agent sees its velocity, the landmarks (2..7), the colour of the landmark the *other* agent must reach
    # (8..10) and the other's word (11..20); its action is move + 5 * word.
    words=Words(words=10, colours=tuple(map(tuple, LANDMARK_COLOURS.tolist())), goal={"agent": 8},
                landmarks={"agent": 2}, hears={"agent_0": "agent_1", "agent_1": "agent_0"}, moves=5),
    scripted=scripted.simple_reference,
    stubborn=styles.StubbornReference,
    agent_positions=agent_positions,
    symmetries_fn=landmark_relabellings,
    preset={"other_play": True, "partner_pool": 0},  # as in simple_speaker_listener (why there)
)
