"""The batched simple_speaker_listener and simple_reference cores equal mpe2 over whole episodes."""

import numpy as np
import pytest

import games
from games.mpe_core import Body, World
from games.simple_reference import ReferenceBatch
from games.simple_speaker_listener import SpeakerListenerBatch
from games.parity import assert_core_matches_env, random_actions

CORES = {"simple_speaker_listener": SpeakerListenerBatch, "simple_reference": ReferenceBatch}
# Where the first agent's observation shows a goal colour: the speaker's 0..2, agent_0's 8..10.
GOAL_COLOUR = {"simple_speaker_listener": slice(0, 3), "simple_reference": slice(8, 11)}


@pytest.mark.parametrize(
    "game, kwargs, episodes",
    [
        ("simple_speaker_listener", {}, 400),
        ("simple_speaker_listener", {"max_cycles": 40}, 30),
        ("simple_reference", {}, 400),
        ("simple_reference", {"local_ratio": 0.2, "max_cycles": 40}, 30),
    ],
)
def test_core_equals_mpe2_over_whole_episodes(game, kwargs, episodes):
    spec = games.get(game)
    info = spec.info(**kwargs)
    rng = np.random.default_rng(20261125 + len(kwargs))
    seeds = rng.integers(0, 2**31 - 1, episodes)
    seeds[1] = seeds[0]  # GRPO repeats seeds
    batch = spec.batch(episodes, **kwargs)
    assert isinstance(batch, CORES[game])
    assert batch.reset(seeds).dtype == np.float32  # like mpe2
    assert batch.step(np.zeros((episodes, len(info.agents)), dtype=np.int64))[1].dtype == np.float32
    report = assert_core_matches_env(spec, seeds, random_actions(len(kwargs)), **kwargs)
    assert report.steps == episodes * info.horizon and report.alive[:-1].all()  # nobody leaves early
    obs = report.observations  # (T+1, B, n, D)
    # the draws must cover every goal landmark, and the last word must reach the last agent's observation
    assert len(np.unique(obs[0, :, 0, GOAL_COLOUR[game]], axis=0)) == 3
    assert obs[1:, :, -1, -1].any()


@pytest.mark.parametrize("game", CORES)
def test_continuous_actions_play_on_the_core_exactly_as_mpe2_clipping_included(game):
    """Box numbers (`continuous_actions=True`): the speaker's 3 numbers are its word and the listener hears them
    as they are; simple_reference's 15 are the move's 5 then the word's 10. Numbers outside [0, 1] are clipped
    as mpe2's wrapper clips them, and a seat's numbers past its own box (the speaker's padding) are ignored."""
    spec = games.get(game)
    info = spec.info(continuous_actions=True)
    assert info.continuous and spec.has_core(continuous_actions=True)
    assert isinstance(spec.batch(2, continuous_actions=True), CORES[game])
    report = assert_core_matches_env(spec, list(range(40)), continuous_actions=True)  # uniform in each box
    assert report.steps == 40 * info.horizon and report.max_obs_difference == 0.0
    rng = np.random.default_rng(7)
    width = max(info.n_actions.values())

    def beyond(obs, info):  # half the numbers outside [0, 1], padding included
        return rng.uniform(-1.0, 2.0, size=(obs.shape[0], 2, width)).astype(np.float32)

    report = assert_core_matches_env(spec, list(range(40, 80)), beyond, continuous_actions=True)
    assert report.max_obs_difference == 0.0 and report.max_reward_difference == 0.0
    heard = report.observations[1:, :, 1, -3:] if game == "simple_speaker_listener" else \
        report.observations[1:, :, 0, 11:21]  # the word as numbers, not one-hot
    assert len(np.unique(heard)) > 100 and heard.min() >= 0 and heard.max() <= 1


def test_world_steps_in_mpe2_order():
    """Hand-checked numbers: two agents of size 0.15, 0.1 apart, push each other with
    100 * softplus((0.3 - 0.1) / 0.001) * 0.001 = 20 (up to e^-200). Forces come from the positions before
    the move, positions move with the old velocity; a fixed, silent agent neither moves nor speaks."""
    still = Body(movable=False, collide=False, silent=True)
    world = World(1, [Body(size=0.15), Body(size=0.15), still], n_landmarks=0, dim_c=4)
    world.reset(np.array([[[0.0, 0.0], [0.1, 0.0], [0.5, 0.5]]]), np.zeros((1, 0, 2)))
    world.step(move=np.array([[0, 0, 2]]), say=np.array([[1, 3, 2]]))
    np.testing.assert_array_equal(world.pos[0], [[0.0, 0.0], [0.1, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(world.vel[0], [[-2.0, 0.0], [2.0, 0.0], [0.0, 0.0]])  # 20 * dt
    np.testing.assert_array_equal(world.comm[0], [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    world.step(move=np.array([[2, 0, 0]]), say=np.array([[0, 0, 0]]))
    np.testing.assert_allclose(world.pos[0], [[-0.2, 0.0], [0.3, 0.0], [0.5, 0.5]])
    # still 0.1 apart when the forces were taken: damping 0.25, contact 20 * dt, agent 0's move +5 * dt
    np.testing.assert_allclose(world.vel[0], [[-1.5 - 2.0 + 0.5, 0.0], [1.5 + 2.0, 0.0], [0.0, 0.0]])
