"""The batched pursuit core equals PettingZoo's pursuit_v5 over whole episodes, captures and all."""

import numpy as np
import pytest

import games
from games.pursuit_core import PursuitBatch

SPEC = games.get("pursuit")
SMALL = {"x_size": 8, "y_size": 8, "n_pursuers": 4, "n_evaders": 3, "max_cycles": 200}


def play_core(batch, seeds, rng, **kwargs):
    """Whole episodes in the core; each env plays the scripted pursuit policy or random moves, chosen afresh
    every step, so that evaders get caught. Returns actions `(T, B, n)`, obs `(T+1, B, n, D)`, rewards
    `(T, B, n)`, done `(T, B)` and the evaders caught per env `(B,)`."""
    info = SPEC.info(**kwargs)
    policy = games.get("pursuit").scripted
    obs = [batch.reset(seeds)]
    actions, rewards, dones = [], [], []
    while not batch.done.all():
        ended = batch.done.copy()
        random = rng.integers(0, 5, (len(seeds), len(info.agents)))
        act = np.where(rng.random((len(seeds), 1)) < 0.5, policy(obs[-1], info), random)
        o, r, done = batch.step(act)
        assert not o[ended].any() and not r[ended].any()  # ended envs stay silent until the next reset
        actions.append(act), obs.append(o), rewards.append(r), dones.append(done)
    return np.array(actions), np.array(obs), np.array(rewards), np.array(dones), batch.caught.sum(axis=1)


def reference_episode(seed, actions, **kwargs):
    """PettingZoo obs `(T+1, n, D)`, rewards `(T, n)` and whether it terminated, for actions `(T, n)`; stops
    where the reference ends."""
    env = SPEC.make_env(**kwargs)
    obs, _ = env.reset(seed=int(seed))
    agents = env.possible_agents
    flat = lambda o: np.stack([np.asarray(o[a], dtype=np.float32).reshape(-1) for a in agents])  # noqa: E731
    all_obs, all_rew, terminated = [flat(obs)], [], False
    for step_actions in actions:
        obs, rew, term, _, _ = env.step({a: int(step_actions[i]) for i, a in enumerate(agents)})
        all_obs.append(flat(obs))
        all_rew.append([rew[a] for a in agents])
        terminated = any(term.values())
        if not env.agents:
            break
    return np.array(all_obs), np.array(all_rew), terminated


def check_parity(batch, episodes, seed, **kwargs):
    """Plays `episodes` whole episodes (one seed repeated) and compares every step with PettingZoo; returns
    (evaders caught, episodes that ended with every evader caught)."""
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**31 - 1, episodes)
    seeds[-1] = seeds[0]  # a repeated seed, played with other actions, must still follow its own stream
    actions, obs, rewards, dones, caught = play_core(batch, seeds, rng, **kwargs)
    max_cycles = SPEC.resolve_kwargs(kwargs)["max_cycles"]
    all_caught = 0
    for b, s in enumerate(seeds):
        length = int(np.argmax(dones[:, b])) + 1  # the core's episode length
        ref_obs, ref_rew, terminated = reference_episode(s, actions[:, b], **kwargs)
        assert len(ref_rew) == length, (b, len(ref_rew), length)  # done at the same step
        np.testing.assert_array_equal(obs[: length + 1, b], ref_obs)
        np.testing.assert_allclose(rewards[:length, b], ref_rew, atol=1e-5, rtol=0)
        n_evaders = SPEC.resolve_kwargs(kwargs)["n_evaders"]
        assert terminated == (caught[b] == n_evaders and length < max_cycles)
        all_caught += int(terminated)
    return int(caught.sum()), all_caught


@pytest.mark.parametrize(
    "kwargs, episodes",
    [
        ({}, 4),  # the game as trained: full 500-step episodes
        (SMALL, 8),  # few evaders on a small map: captures and all-caught endings
        ({"max_cycles": 60, "x_size": 10, "y_size": 9, "n_evaders": 6, "surround": False, "shared_reward": False}, 6),
        (
            {"max_cycles": 50, "freeze_evaders": True, "obs_range": 6, "constraint_window": 0.75, "n_evaders": 8,
             "tag_reward": 0.3, "catch_reward": 2.0, "urgency_reward": -0.3},
            4,
        ),
    ],
)
def test_core_equals_pettingzoo_over_whole_episodes(kwargs, episodes):
    batch = SPEC.batch(episodes, **kwargs)
    assert isinstance(batch, PursuitBatch) and batch.obs_dim == SPEC.info(**kwargs).max_obs_dim
    caught, all_caught = check_parity(batch, episodes, 20261125 + len(kwargs), **kwargs)
    if kwargs is SMALL:
        assert caught > 0 and all_caught > 0  # captures, removals and the all-caught ending were exercised


def test_evader_moves_drawn_in_small_refills_stay_exact():
    kwargs = {**SMALL, "max_cycles": 100}
    batch = PursuitBatch(3, move_buffer=5, **SPEC.resolve_kwargs(kwargs))  # refills every step or two
    caught, _ = check_parity(batch, 3, 7, **kwargs)
    assert caught > 0


def test_repeated_seeds_give_identical_starts():
    batch = SPEC.batch(4)
    batch.reset([1, 2, 3, 4])
    obs = batch.reset([7, 3, 7, 7])  # a second reset starts afresh
    np.testing.assert_array_equal(obs[0], obs[2])
    np.testing.assert_array_equal(obs[0], obs[3])
    assert not np.array_equal(obs[0], obs[1])
    with pytest.raises(ValueError):
        batch.reset([1, 2])


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"max_cycles": 3000}, {"surround": False, "n_catch": 3}, {"freeze_evaders": True},
     {"obs_range": 9, "x_size": 20, "n_pursuers": 2, "shared_reward": False}],
)
def test_every_option_set_gets_the_core(kwargs):
    # the core follows every option of pursuit_v5, so no option set falls back to the generic runner
    assert SPEC.has_core(**kwargs)
    assert isinstance(SPEC.batch(2, **kwargs), PursuitBatch)
