"""The batched simple_spread core equals mpe2's simple_spread over whole episodes."""

import dataclasses

import numpy as np
import pytest

import games
from games.parity import ParityError, assert_core_matches_env, random_actions
from games.simple_spread import SpreadBatch
from games.vector import VectorBatch

SPEC = games.get("simple_spread")


@pytest.mark.parametrize(
    "kwargs, episodes",
    [({}, 120), ({"N": 4, "local_ratio": 0.25, "max_cycles": 30}, 20), ({"N": 2, "max_cycles": 10}, 20)],
)
def test_core_equals_mpe2_over_whole_episodes(kwargs, episodes):
    rng = np.random.default_rng(20261124 + len(kwargs))
    seeds = rng.integers(0, 2**31 - 1, episodes)
    assert isinstance(SPEC.batch(episodes, **kwargs), SpreadBatch)
    info = SPEC.info(**kwargs)
    report = assert_core_matches_env(SPEC, seeds, random_actions(len(kwargs)), **kwargs)
    assert report.steps == episodes * info.horizon  # every game ran to max_cycles on both sides
    n = len(info.agents)
    obs = report.observations  # (T+1, B, N, D)
    rel_others = obs[..., 4 + 2 * n : 2 + 4 * n].reshape(*obs.shape[:3], n - 1, 2)
    # the episodes must exercise contact forces and the collision penalty, not only free flight
    assert (np.linalg.norm(rel_others, axis=-1) < 0.3).any(axis=(0, 2, 3)).sum() > 0


def test_a_core_that_differs_from_its_env_is_caught():
    """The parity check can fail: a core whose rewards drift by 0.01 from step 3 on is refused at step 3."""

    class Drifting(SpreadBatch):
        def step(self, actions):
            obs, rewards, done = super().step(actions)
            self.t_drift = getattr(self, "t_drift", 0) + 1
            return obs, rewards + (0.01 if self.t_drift >= 3 else 0.0), done

    spec = dataclasses.replace(SPEC, batch_core=lambda B, **kw: Drifting(B, N=kw["N"], local_ratio=kw["local_ratio"],
                                                                         max_cycles=kw["max_cycles"]))
    with pytest.raises(ParityError, match="rewards differ at step 3"):
        assert_core_matches_env(spec, [1, 2, 3])


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
