"""cooperative_pong: PongBatch equal to PettingZoo over whole games (its prepared frames to the last bit), the
hand rule keeping every ball in play, copies of a game playing the same, and the screen the env draws."""

import numpy as np
import pytest

import games
from games.cooperative_pong import SPEC, hand_rule
from games.parity import assert_core_matches_env, random_actions

PONG = games.get("cooperative_pong")


def test_the_core_equals_the_env_over_whole_games_of_random_play():
    report = assert_core_matches_env(SPEC, list(range(1, 9)), random_actions(seed=3))
    assert report.max_obs_difference == 0.0 and report.max_reward_difference == 0.0
    assert report.steps > 150 and (report.rewards[:, :, 0] == -10).sum() == 8  # every ball lost, penalty each


@pytest.mark.slow
@pytest.mark.parametrize("options", [{}, {"bounce_randomness": True}, {"cake_paddle": False,
                                                                        "bounce_randomness": True}])
def test_the_core_equals_the_env_over_whole_rallies_of_the_hand_rule(options):
    """The rule returns the ball off the flat paddle and every tier of the cake for 900 steps (its bounce
    noise drawn from each game's own generator); with a flat right paddle it loses some balls."""
    report = assert_core_matches_env(SPEC, [7, 8, 9], hand_rule, **options)
    assert report.max_obs_difference == 0.0 and report.max_reward_difference == 0.0
    assert report.steps == 2700 if options.get("cake_paddle", True) else report.steps > 300


def test_the_hand_rule_keeps_nearly_every_ball_in_play_and_random_play_does_not():
    info = PONG.info()
    batch = PONG.batch(64)
    obs, total, done = batch.reset(list(range(1000, 1064))), np.zeros(64), np.zeros(64, bool)
    while not done.all():
        obs, rewards, ended = batch.step(hand_rule(obs, info))
        total += np.where(done, 0, PONG.team_reward(rewards))
        done |= ended
    assert (np.abs(total - 100) < 1e-3).sum() >= 60 and total.mean() > 95  # 900 steps of 100 / 900 (63 of 64)
    rng = np.random.default_rng(0)
    obs, total, done = batch.reset(list(range(1000, 1064))), np.zeros(64), np.zeros(64, bool)
    while not done.all():
        obs, rewards, ended = batch.step(rng.integers(0, 3, (64, 2)))
        total += np.where(done, 0, PONG.team_reward(rewards))
        done |= ended
    assert total.mean() < 20


def test_copies_of_a_game_play_the_same():
    batch = PONG.batch(4, bounce_randomness=True)
    info = PONG.info(bounce_randomness=True)
    obs = batch.reset([11, 12, 13, 14])
    for _ in range(40):
        obs, _, _ = batch.step(hand_rule(obs, info))
    source = np.array([2, 2, 0, 0])
    batch.clone_rows(source)
    obs = obs[source]  # what each copy saw last
    for _ in range(200):
        obs, rewards, _ = batch.step(hand_rule(obs, info))
        assert np.array_equal(obs[0], obs[1]) and np.array_equal(obs[2], obs[3])
    assert not np.array_equal(obs[0], obs[2])


def test_the_registered_game_draws_its_screen_where_pettingzoo_s_entry_point_leaves_it_black():
    """PettingZoo 1.27 draws cooperative_pong only in render(), a no-op without a render mode."""
    raw = games.get("pettingzoo.butterfly.cooperative_pong_v6:parallel_env").make_env()
    obs, _ = raw.reset(seed=0)
    assert obs["paddle_0"].max() == 0.0
    obs, _ = PONG.make_env().reset(seed=0)
    assert obs["paddle_0"].shape == (2, 28, 48) and obs["paddle_0"].max() == 1.0  # the paddles' white columns
