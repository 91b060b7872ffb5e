"""The batched simple_spread core equals mpe2's simple_spread over whole episodes."""

import numpy as np
import pytest

import games
from games.simple_spread import SpreadBatch
from games.vector import VectorBatch

SPEC = games.get("simple_spread")


def reference_episode(seed, actions, **kwargs):
    """mpe2 obs/rewards for a fixed action sequence `(T, N)`: obs `(T+1, N, D)`, rewards `(T, N)`."""
    env = SPEC.make_env(**kwargs)
    obs, _ = env.reset(seed=int(seed))
    agents = env.possible_agents
    all_obs, all_rew = [np.stack([obs[a] for a in agents])], []
    for step_actions in actions:
        assert env.agents, "reference ended early"
        obs, rew, *_ = env.step({a: int(step_actions[i]) for i, a in enumerate(agents)})
        all_obs.append(np.stack([obs[a] for a in agents]))
        all_rew.append([rew[a] for a in agents])
    assert not env.agents, "reference should end exactly at max_cycles"
    env.close()
    return np.array(all_obs), np.array(all_rew)


@pytest.mark.parametrize(
    "kwargs, episodes",
    [({}, 120), ({"N": 4, "local_ratio": 0.25, "max_cycles": 30}, 20), ({"N": 2, "max_cycles": 10}, 20)],
)
def test_core_equals_mpe2_over_whole_episodes(kwargs, episodes):
    rng = np.random.default_rng(20261124 + len(kwargs))
    seeds = rng.integers(0, 2**31 - 1, episodes)
    batch = SPEC.batch(episodes, **kwargs)
    assert isinstance(batch, SpreadBatch)
    info = SPEC.info(**kwargs)
    actions = rng.integers(0, 5, (info.horizon, episodes, len(info.agents)))  # (T, B, N)
    obs = [batch.reset(seeds)]
    rewards = []
    for t in range(info.horizon):
        o, r, done = batch.step(actions[t])
        obs.append(o)
        rewards.append(r)
        assert done.all() == (t == info.horizon - 1)
    obs, rewards = np.array(obs), np.array(rewards)  # (T+1, B, N, D), (T, B, N)
    collisions = 0
    for b, seed in enumerate(seeds):
        ref_obs, ref_rew = reference_episode(seed, actions[:, b], **kwargs)
        np.testing.assert_allclose(obs[:, b], ref_obs, atol=1e-4, rtol=0)
        np.testing.assert_allclose(rewards[:, b], ref_rew, atol=1e-4, rtol=0)
        n = len(info.agents)
        rel_others = ref_obs[..., 4 + 2 * n : 2 + 4 * n].reshape(*ref_obs.shape[:2], n - 1, 2)
        collisions += int((np.linalg.norm(rel_others, axis=-1) < 0.3).any())
    # the episodes must exercise contact forces and the collision penalty, not only free flight
    assert collisions > 0


def test_repeated_seeds_give_identical_starts():
    batch = SPEC.batch(4)
    obs = batch.reset([7, 3, 7, 7])
    np.testing.assert_array_equal(obs[0], obs[2])
    np.testing.assert_array_equal(obs[0], obs[3])
    assert not np.array_equal(obs[0], obs[1])


def test_other_option_sets_fall_back_to_the_vector_runner():
    assert isinstance(SPEC.batch(2, num_landmark_neighbors=2), VectorBatch)
    assert isinstance(SPEC.batch(2, dynamic_rescaling=False), SpreadBatch)
    with pytest.raises(ValueError):
        SPEC.batch(3).reset([1, 2])
