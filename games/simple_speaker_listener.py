"""simple_speaker_listener (mpe2 `simple_speaker_listener_v4`): two roles that must communicate.

Agents: `speaker_0` (role `speaker`) and `listener_0` (role `listener`); the roles have different spaces and
so different networks. The speaker sees the colour of the goal landmark (3) and says one of 3 words; the
listener sees its velocity, the landmarks and the word (11) and moves (Discrete(5): no-op, left, right, down,
up). Both get -(squared distance of the listener to the goal).
Team reward: mean over the two seats (they are equal).
The listener's landmarks are declared as `Targets`, so its network chooses a landmark and steers to it.
Options (mpe2 defaults): max_cycles=25, continuous_actions=False, dynamic_rescaling=True.

Batched core: `SpeakerListenerBatch` plays B games at once on `games.mpe_core.World` (mpe2's physics and
communication vectorized in numpy), discrete or continuous (`continuous_actions=True`: the speaker's Box(0, 1, (3,))
numbers are its word, heard as they are; the listener's Box(0, 1, (5,)) its move).
The speaker's 3 observations are padded with zeros to the listener's 11, as `games.vector.batchify` pads them.
`tests/test_mpe_cores.py` proves it equals mpe2 over whole episodes from seeds the test draws.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from mpe2 import simple_speaker_listener_v4

from games import scripted, styles
from games.mpe_core import Body, World, agent_positions, box_numbers
from games.simple_spread import ARROWS
from games.spec import GameSpec, KeyMap, Targets, Words
from games.symmetry import LandmarkLayout, Symmetry, landmark_symmetries

# Scenario.reset_world: landmark colours, the speaker sees the goal's.
LANDMARK_COLOURS = np.array([[0.65, 0.15, 0.15], [0.15, 0.65, 0.15], [0.15, 0.15, 0.65]])  # (L, 3)


class SpeakerListenerBatch:
    """B speaker-listener games stepped together (float64 state, float32 obs like mpe2)."""

    def __init__(self, num_envs: int, max_cycles: int = 25, continuous: bool = False) -> None:
        """`continuous`: actions are mpe2's Box numbers (`continuous_actions=True`), clipped to [0, 1]."""
        self.num_envs, self.max_cycles, self.continuous = num_envs, max_cycles, continuous
        self.agents = ("speaker_0", "listener_0")
        self.obs_dim = 11  # the listener's; the speaker's 3 are zero-padded
        # Scenario.make_world: nobody collides; the speaker cannot move, the listener cannot speak; 3 words.
        speaker = Body(size=0.075, collide=False, movable=False)
        listener = Body(size=0.075, collide=False, silent=True)
        self.world = World(num_envs, [speaker, listener], n_landmarks=3, dim_c=3)
        self.goal = np.zeros(num_envs, dtype=np.int64)  # (B,) index of the goal landmark
        self.steps = 0
        self.alive = np.ones((num_envs, 2), dtype=bool)
        self.done = np.ones(num_envs, dtype=bool)

    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Start each game from its seed, exactly as `env.reset(seed=s)`; returns obs `(B, 2, 11)`."""
        self.goal = self.world.start(seeds, goal_draws=1)[:, 0]  # (B,) the listener's goal landmark
        self.steps = 0
        self.done[:] = False
        return self._observe()

    def relabel(self, sigma: Sequence[int]) -> np.ndarray:
        """Landmark k (its colour, the word for it) becomes landmark sigma[k] in every game; returns the
        observations `(B, 2, 11)`."""
        self.world.relabel(sigma, words=True)
        self.goal = np.asarray(sigma)[self.goal]
        return self._observe()

    def state(self) -> np.ndarray:
        """Physical state `(B, 7, 2)`: positions, velocities (speaker, listener), landmarks."""
        return self.world.state()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, 2)`: speaker's word 0..2, listener's move 0..4 (continuous: `(B, 2, 5)` numbers, the speaker's
        first 3, clipped to [0, 1] as mpe2's ClipOutOfBoundsWrapper does) -> obs, rewards `(B, 2)`, done `(B,)`."""
        if self.continuous:
            numbers = box_numbers(actions)  # (B, 2, 5)
            move = np.zeros_like(numbers)
            move[:, 1] = numbers[:, 1, :5]  # the speaker does not move: its row stays 0 whatever the padding holds
            say = np.zeros((self.num_envs, 2, 3), dtype=np.float32)
            say[:, 0] = numbers[:, 0, :3]
            self.world.step(move=move, say=say)
        else:
            actions = np.asarray(actions, dtype=np.int64)
            # The speaker's column is its word, the listener's its move; the other entry is ignored, so give it 0.
            self.world.step(move=actions * (0, 1), say=actions * (1, 0))
        self.steps += 1
        listener = self.world.pos[:, 1]  # (B, 2)
        goal = self.world.landmarks[np.arange(self.num_envs), self.goal]  # (B, 2)
        reward = -np.sum(np.square(listener - goal), axis=-1)  # (B,) shared by both seats
        self.done[:] = self.steps >= self.max_cycles
        return self._observe(), np.repeat(reward[:, None], 2, axis=1).astype(np.float32), self.done.copy()

    def _observe(self) -> np.ndarray:
        """Speaker: goal colour (3); listener: velocity (2), landmarks relative to it (6), the speaker's word (3)."""
        B = self.num_envs
        obs = np.zeros((B, 2, self.obs_dim), dtype=np.float32)
        obs[:, 0, :3] = LANDMARK_COLOURS[self.goal]
        obs[:, 1, 0:2] = self.world.vel[:, 1]
        obs[:, 1, 2:8] = self.world.to_landmarks()[:, 1].reshape(B, 6)
        obs[:, 1, 8:11] = self.world.comm[:, 0]
        return obs

    def close(self) -> None:
        """Nothing to free; here so every batch can be closed the same way."""


def make_batch(num_envs: int, **kwargs: Any) -> SpeakerListenerBatch:
    """The vectorized core, discrete or continuous (dynamic_rescaling only changes drawing)."""
    return SpeakerListenerBatch(num_envs, max_cycles=kwargs["max_cycles"], continuous=kwargs["continuous_actions"])


def landmark_relabellings(info: Any, **kwargs: Any) -> list[Symmetry]:
    """Relabel the 3 landmarks together with their colours and the words: the speaker's goal colour (obs 0..2,
    one channel per landmark) and its word; the listener's landmarks (2..7) and the word it hears (8..10)."""
    return landmark_symmetries(3, {"speaker": LandmarkLayout(blocks=((0, 1),), words=True),
                                   "listener": LandmarkLayout(blocks=((2, 2), (8, 1)))}, info)


SPEC = GameSpec(
    name="simple_speaker_listener",
    summary="a speaker who sees the goal tells a listener who moves where to go (mpe2)",
    env_fn=simple_speaker_listener_v4.parallel_env,
    options={"max_cycles": 25, "continuous_actions": False, "dynamic_rescaling": True},
    key_maps={
        # Words by the landmark they name in the natural code (word k = landmark k, what Other-Play teams learn).
        # The speaker has no silent action; with no key held it keeps saying word 0 (red's).
        "speaker": KeyMap(keys={"r": 0, "g": 1, "b": 2, "1": 0, "2": 1, "3": 2}, idle=0,
                          help="R/G/B (or 1/2/3) say the red/green/blue landmark's word (A/B/C); no key = red"),
        "listener": ARROWS,
        # With continuous_actions the word is 3 numbers, heard as they are: no key says A (1, 0, 0), as above;
        # a held key's numbers add to that (then clipped to [0, 1]), so G and B take A's 1 away.
        "speaker:box": KeyMap(keys={"r": (1, 0, 0), "g": (-1, 1, 0), "b": (-1, 0, 1), "1": (1, 0, 0),
                                    "2": (-1, 1, 0), "3": (-1, 0, 1)}, idle=(1, 0, 0),
                              help="R/G/B (or 1/2/3) say the red/green/blue landmark's word (A/B/C) as numbers "
                                   "(1 for the word, 0 for the rest); no key = red"),
    },
    batch_core=make_batch,
    # The listener sees its velocity (0), then the 3 landmarks relative to itself (2..7), then the word.
    targets_fn=lambda **kwargs: {"listener": Targets(velocity=0, first=2, count=3)},
    # The speaker sees the goal colour (obs 0..2, padded to 11); the listener sees its velocity, the landmarks
    # (2..7) and the word (8..10). The speaker's action is its word.
    words=Words(words=3, colours=tuple(map(tuple, LANDMARK_COLOURS.tolist())), goal={"speaker": 0},
                landmarks={"listener": 2}, hears={"listener_0": "speaker_0"}),
    scripted=scripted.simple_speaker_listener,
    stubborn=styles.StubbornSpeakerListener,
    agent_positions=agent_positions,
    symmetries_fn=landmark_relabellings,
    # Other-Play: partners see the game through a random relabelling of landmarks, colours and words, so the one
    # code that survives is word k = landmark k, the one a person guesses; and the scripted partner only (no
    # other generations: one trained on its own may speak a private code and pull a team toward it). docs/training.md,
    # "Words a person can guess", has the leagues that chose this.
    preset={"other_play": True, "partner_pool": 0},
)
