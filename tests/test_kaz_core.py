"""The batched knights_archers_zombies core equals PettingZoo's env (through VectorBatch) over whole episodes."""

import numpy as np
import pytest
from gymnasium.utils import seeding

import games
from games.kaz_core import KAZBatch, _Pcg64
from games.vector import VectorBatch

SPEC = games.get("knights_archers_zombies")
VARIANT = {  # every other option away from its default, with type masks
    "num_archers": 1, "num_knights": 3, "max_zombies": 4, "max_arrows": 3, "spawn_delay": 5,
    "killable_knights": False, "line_death": True, "max_cycles": 150, "obs_method": "vector-masked",
}


def zombie_rows(obs: np.ndarray, kwargs: dict) -> np.ndarray:
    """How many zombies each game's first agent sees `(B,)` (the table's last max_zombies rows)."""
    full = SPEC.resolve_kwargs(kwargs)
    table = obs[:, 0].reshape(len(obs), -1, 11 if full["obs_method"] == "vector-masked" else 5)
    return (table[:, -full["max_zombies"] :] != 0).any(axis=-1).sum(axis=-1)


EARLY, FULL = "ends before max_cycles", "runs to max_cycles"


# `ends`: how the case's games end, all of them together: before max_cycles (a zombie crosses, or every agent is
# dead) and/or cut at max_cycles. Measured on these seeds: random play ends every game at 140-277 cycles of 900;
# the scripted baseline lasts 900 cycles in 3 games of 4 (the other ends at 506); max_cycles 120 cuts every game;
# VARIANT's games end at 142-147 of 150.
@pytest.mark.parametrize(
    "kwargs, num_envs, episodes, attack, forward, scripted, ends",
    [
        ({}, 6, 2, 0.0, 0.0, 0.0, {EARLY}),  # default 900-cycle game, uniform random actions: a zombie crosses
        ({}, 4, 2, 0.6, 0.2, 0.0, {EARLY}),  # attack often and walk into the zombies: kills, max_arrows, deaths
        ({}, 4, 1, 0.05, 0.05, 0.8, {EARLY, FULL}),  # mostly the scripted baseline: whole 900-cycle games
        ({"max_cycles": 120}, 8, 2, 0.4, 0.3, 0.0, {FULL}),
        (VARIANT, 8, 2, 0.4, 0.3, 0.0, {EARLY}),
    ],
)
def test_core_equals_pettingzoo_over_whole_episodes(kwargs, num_envs, episodes, attack, forward, scripted, ends):
    rng = np.random.default_rng(20261125 + num_envs)
    full = SPEC.resolve_kwargs(kwargs)
    core = SPEC.batch(num_envs, **kwargs)
    assert isinstance(core, KAZBatch) and core.obs_dim == SPEC.info(**kwargs).max_obs_dim
    ref = VectorBatch(SPEC, num_envs, **full)
    assert core.agents == ref.agents
    n, info = len(core.agents), SPEC.info(**kwargs)
    kills = deaths = spawns = 0
    lengths = []  # every game's length in cycles
    for _ in range(episodes):  # the same batches again: the env's spawn timer carries over between episodes
        seeds = rng.integers(0, 2**31 - 1, num_envs)
        seeds[1] = seeds[0]  # seeds may repeat
        obs = core.reset(seeds)
        np.testing.assert_allclose(obs, ref.reset(seeds), atol=1e-5, rtol=0)
        steps = 0
        length = np.zeros(num_envs, dtype=int)
        while not ref.done.all():
            u = rng.random((num_envs, n))
            actions = np.where(u < attack, 4, np.where(u < attack + forward, 0, rng.integers(0, 6, (num_envs, n))))
            actions = np.where(u > 1 - scripted, games.get("knights_archers_zombies").scripted(obs, info), actions)
            before = zombie_rows(obs, kwargs)
            obs, rewards, done = core.step(actions)
            ref_obs, ref_rewards, ref_done = ref.step(actions)
            np.testing.assert_allclose(obs, ref_obs, atol=1e-5, rtol=0, err_msg=f"step {steps}")
            np.testing.assert_array_equal(rewards, ref_rewards, err_msg=f"step {steps}")
            np.testing.assert_array_equal(core.alive, ref.alive, err_msg=f"step {steps}")
            np.testing.assert_array_equal(done, ref_done, err_msg=f"step {steps}")
            kills += int(rewards.sum())
            deaths += int((~core.alive & ~done[:, None]).sum())
            spawns += int((zombie_rows(obs, kwargs) > before).sum())
            steps += 1
            length[ref_done & (length == 0)] = steps
        lengths += length.tolist()
        # an ended game ignores actions and gives zeros until the next reset
        obs, rewards, done = core.step(np.zeros((num_envs, n), dtype=np.int64))
        assert done.all() and not obs.any() and not rewards.any() and not core.alive.any()
    # the episodes must exercise kills, agent deaths and zombie spawns, not only walking
    assert kills > 0 and deaths > 0 and spawns > 0, (kills, deaths, spawns)
    # and they end as the case says: cut at max_cycles, before it, or both, never after it
    cycles = full["max_cycles"]
    seen = {EARLY if k < cycles else FULL if k == cycles else f"ran {k} cycles" for k in lengths}
    assert seen == ends, (cycles, lengths)


def test_generator_emulation_matches_numpy_including_rejections():
    seeds = [0, 5, 2**31 - 1]
    ours = _Pcg64(seeds)
    theirs = [seeding.np_random(s)[0] for s in seeds]
    # Buffer a 0 as the next 32-bit draw: Lemire's method must reject it and draw again.
    ours.has_half[:], ours.half[:] = True, 0
    for gen in theirs:
        state = gen.bit_generator.state
        gen.bit_generator.state = {**state, "has_uint32": 1, "uinteger": 0}
    bounds = np.tile([10, 1082, 10, 10, 1082], 40)
    for bound in bounds:
        drawn = ours.integers(np.ones(3, dtype=bool), np.full(3, bound))
        assert drawn.tolist() == [int(gen.integers(0, bound)) for gen in theirs]


def test_repeated_seeds_give_identical_starts_and_other_observations_fall_back():
    core = SPEC.batch(3)
    obs = core.reset([7, 3, 7])
    np.testing.assert_array_equal(obs[0], obs[2])
    assert not SPEC.has_core(obs_method="image") and not SPEC.has_core(obs_method="vector-sequence")
    with pytest.raises(ValueError):
        core.reset([1, 2])


def test_cloned_games_play_on_as_their_source():
    """`clone_rows` copies a whole game (zombie generator and spawn timer included): copies given the same
    actions stay equal to the source, step after step, over the rest of the episode."""
    batch = KAZBatch(4)
    rng = np.random.default_rng(3)
    batch.reset([11, 12, 13, 14])
    for _ in range(120):
        batch.step(rng.integers(0, 6, (4, 4)))
    batch.clone_rows(np.array([2, 2, 2, 0]))
    while not batch.done.all():
        actions = np.repeat(rng.integers(0, 6, (1, 4)), 4, axis=0)
        obs, rewards, done = batch.step(actions)
        assert (obs[0] == obs[1]).all() and (obs[1] == obs[2]).all() and (rewards[0] == rewards[2]).all()
        assert done[0] == done[1] == done[2]
