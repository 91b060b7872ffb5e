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


def test_continuous_actions_have_no_core():
    """The cores cover every discrete option set; continuous actions get None (the vector runner's case,
    though `GameSpec.info` refuses non-discrete spaces before any batch is built)."""
    for game in CORES:
        spec = games.get(game)
        assert spec.has_core()
        assert spec.batch_core(2, **spec.resolve_kwargs({"continuous_actions": True})) is None
        assert not spec.has_core(continuous_actions=True)


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
