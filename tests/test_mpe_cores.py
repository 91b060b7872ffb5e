"""The batched simple_speaker_listener and simple_reference cores equal mpe2 over whole episodes."""

import numpy as np
import pytest

import games
from games.mpe_core import Body, World
from games.simple_reference import ReferenceBatch
from games.simple_speaker_listener import SpeakerListenerBatch
from games.vector import batchify

CORES = {"simple_speaker_listener": SpeakerListenerBatch, "simple_reference": ReferenceBatch}
# Where the first agent's observation shows a goal colour: the speaker's 0..2, agent_0's 8..10.
GOAL_COLOUR = {"simple_speaker_listener": slice(0, 3), "simple_reference": slice(8, 11)}


def reference_episodes(spec, seeds, actions, **kwargs):
    """mpe2 obs/rewards for action sequences `(T, B, n)`: obs `(T+1, B, n, D)` (0-padded), rewards `(T, B, n)`.

    One env replays every seed: `reset(seed=s)` reseeds it completely, which is what the core must match.
    """
    info = spec.info(**kwargs)
    env = spec.make_env(**kwargs)
    all_obs, all_rew = [], []
    for b, seed in enumerate(seeds):
        obs, _ = env.reset(seed=int(seed))
        episode_obs, episode_rew = [batchify(obs, info.agents, info.max_obs_dim)], []
        for step_actions in actions[:, b]:
            assert env.agents, "reference ended early"
            obs, rew, *_ = env.step({a: int(step_actions[i]) for i, a in enumerate(info.agents)})
            episode_obs.append(batchify(obs, info.agents, info.max_obs_dim))
            episode_rew.append(batchify(rew, info.agents))
        assert not env.agents, "reference should end exactly at max_cycles"
        all_obs.append(episode_obs)
        all_rew.append(episode_rew)
    return np.array(all_obs).swapaxes(0, 1), np.array(all_rew).swapaxes(0, 1)


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
    assert batch.agents == info.agents and batch.obs_dim == info.max_obs_dim
    n_actions = [info.n_actions[info.role_of(a)] for a in info.agents]
    actions = rng.integers(0, n_actions, (info.horizon, episodes, len(info.agents)))  # (T, B, n)
    obs, rewards = [batch.reset(seeds)], []
    for t in range(info.horizon):
        o, r, done = batch.step(actions[t])
        assert o.dtype == np.float32 and r.dtype == np.float32
        obs.append(o)
        rewards.append(r)
        assert done.all() == (t == info.horizon - 1) and done.any() == done.all()
    assert batch.alive.all()
    ref_obs, ref_rew = reference_episodes(spec, seeds, actions, **kwargs)
    obs, rewards = np.array(obs), np.array(rewards)  # (T+1, B, n, D), (T, B, n)
    np.testing.assert_allclose(obs, ref_obs, atol=1e-4, rtol=0)
    np.testing.assert_allclose(rewards, ref_rew, atol=1e-4, rtol=0)
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
