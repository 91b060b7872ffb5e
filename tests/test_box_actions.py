"""Box actions (continuous numbers): read off the env, played by the batched core exactly as mpe2 plays them,
drawn by a Gaussian-mixture head whose log-probs GRPO trains on, stored exactly in replays and checkpoints, and
driven by a person's held keys. Bad Box spaces, tampered replays and checkpoints are one error line each."""

import json
import math
import sys
import textwrap

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import games
from conftest import one_error_line
from games.parity import assert_core_matches_env
from games.simple_spread import SpreadBatch
from games.spec import DEFAULT_BOX_KEY_MAP, GameError
from league import box_actions
from league.checkpoints import CheckpointError, check_payload, make_payload
from league.cli import cli
from league.config import GRPOConfig
from league.evaluate import eval_seeds, play, random_policy
from league.grpo import train
from league.matches import duplicate_match
from league.policy import TeamPolicy
from league.replays import ReplayError, episode_columns, episode_from_columns, resimulate
from viewer.play import human_action

SPREAD = games.get("simple_spread")
CONTINUOUS = {"continuous_actions": True}


def test_the_env_s_box_is_read_and_the_core_plays_it_exactly_as_mpe2_clipping_included():
    info = SPREAD.info(**CONTINUOUS)
    assert info.continuous and info.n_actions == {"agent": 5}
    assert info.action_boxes == {"agent": ((0.0,) * 5, (1.0,) * 5)}
    assert isinstance(SPREAD.batch(4, **CONTINUOUS), SpreadBatch)
    report = assert_core_matches_env(SPREAD, list(range(40)), **CONTINUOUS)  # uniform numbers in the box
    assert report.steps == 40 * 25 and report.max_obs_difference == 0.0
    rng = np.random.default_rng(5)

    def beyond(obs, info):  # half the numbers outside [0, 1]: both sides must clip them the same way
        return rng.uniform(-1.0, 2.0, size=(obs.shape[0], 3, 5)).astype(np.float32)

    report = assert_core_matches_env(SPREAD, list(range(40, 80)), beyond, **CONTINUOUS)
    assert report.max_obs_difference == 0.0 and report.max_reward_difference == 0.0
    assert ((report.actions < 0) | (report.actions > 1)).mean() > 0.4


def test_the_scripted_plan_moves_the_same_way_with_numbers_and_random_numbers_stay_in_the_box():
    seeds = eval_seeds(20)
    assert play("simple_spread", SPREAD.scripted, seeds, CONTINUOUS).tolist() == \
        play("simple_spread", SPREAD.scripted, seeds).tolist()  # one-hot numbers: the discrete plan's forces
    info = SPREAD.info(**CONTINUOUS)
    actions = random_policy(info, seed=1)(np.zeros((64, 3, 18), np.float32), info)
    assert actions.shape == (64, 3, 5) and actions.dtype == np.float32
    assert actions.min() >= 0 and actions.max() <= 1 and actions.std() > 0.2


def test_the_head_s_log_probs_are_a_gaussian_mixture_s_and_greedy_play_is_a_mean():
    torch.manual_seed(0)
    info = SPREAD.info(**CONTINUOUS)
    team = TeamPolicy.for_game(info, hidden=32)
    with torch.no_grad():
        team.log_std["agent"].copy_(torch.tensor([-0.5, 0.0, 0.3, -1.0, 0.2]))
    obs = torch.randn(7, 3, 18)
    actions, logp = team.sample(obs, torch.Generator().manual_seed(3))
    assert actions.shape == (7, 3, 5) and logp.shape == (7, 3)
    again, entropy = team.evaluate(obs, actions)
    torch.testing.assert_close(again, logp)
    # the same density written out with torch.distributions: sum_k w_k prod_d N(z_d; mu_kd, sigma_d)
    log_mix, means, log_std = team.mixture(obs)
    z = (actions - 0.5) / 0.5
    normal = torch.distributions.Normal(means, log_std.exp()[:, None, :])  # (7, 3, K, 5)
    expected = torch.logsumexp(log_mix + normal.log_prob(z.unsqueeze(-2)).sum(-1), -1)
    torch.testing.assert_close(logp, expected, rtol=1e-5, atol=1e-5)
    assert (entropy >= box_actions.entropy(log_mix, log_std, team.box_numbers) - 1e-6).all()
    greedy, _ = team.sample(obs, deterministic=True)
    heaviest = log_mix.argmax(-1)
    heaviest_means = means.gather(-2, heaviest[..., None, None].expand(7, 3, 1, 5))[..., 0, :]  # (7, 3, 5)
    torch.testing.assert_close(greedy, 0.5 + 0.5 * heaviest_means)
    played = team.numpy_policy()(obs.numpy())
    assert played.min() >= 0 and played.max() <= 1  # what a game gets: clipped to the box


def test_grpo_learns_continuous_simple_spread_and_is_deterministic():
    """300k steps from a fixed seed: well past random play toward the plan (-7.6), twice the same."""
    config = GRPOConfig(game="simple_spread", game_kwargs=CONTINUOUS, seed=3, threads=1)
    first = train(config, max_env_steps=300_000)
    second = train(config, max_env_steps=300_000)
    for a, b in zip(first.policy.state_dict().values(), second.policy.state_dict().values()):
        assert torch.equal(a, b)
    greedy = play("simple_spread", first.policy.numpy_policy(), eval_seeds(50), CONTINUOUS).mean()
    random = play("simple_spread", random_policy(SPREAD.info(**CONTINUOUS)), eval_seeds(50), CONTINUOUS).mean()
    assert greedy > random + 0.4 * (-7.6 - random), (greedy, random)  # seed 3: -13.3 against -23.6


def test_a_continuous_match_stores_float32_numbers_that_resimulate_and_tampering_is_caught():
    info = SPREAD.info(**CONTINUOUS)
    team = TeamPolicy.for_game(info, hidden=16)
    result = duplicate_match("simple_spread", CONTINUOUS, team.numpy_policy(deterministic=False),
                             random_policy(info, seed=2), [11, 12])
    episode = result.episodes[0]
    assert episode.actions.dtype == np.float32 and episode.actions.shape == (25, 3, 5)
    assert all(resimulate(e) is None for e in result.episodes)
    row = {**episode_columns(episode), "id": 1}
    row["seats"], row["game_kwargs"] = json.loads(row["seats"]), json.loads(row["game_kwargs"])
    back = episode_from_columns(row)
    assert np.array_equal(back.actions, episode.actions) and resimulate(back) is None
    for bad in (np.nan, np.inf, 1.5, -0.01):  # one number of one seat changed by hand
        actions = episode.actions.copy()
        actions[4, 1, 2] = bad
        with pytest.raises(ReplayError, match="not a number within its box"):
            episode_from_columns({**row, "actions": actions.tobytes()})
    gone = episode.actions.copy()
    gone[6, 0] = np.nan  # a seat marked gone while its agent plays: read, but the replay differs there
    assert resimulate(episode_from_columns({**row, "actions": gone.tobytes()})) == 6
    with pytest.raises(ReplayError, match="not 25 steps long"):
        episode_from_columns({**row, "actions": episode.actions[:, :, :4].tobytes()})


def test_checkpoints_keep_the_box_and_refuse_a_tampered_one(tmp_path):
    info = SPREAD.info(**CONTINUOUS)
    team = TeamPolicy.for_game(info, hidden=16)
    payload = make_payload(team, "simple_spread", SPREAD.resolve_kwargs(CONTINUOUS), {})
    check_payload(payload, "simple_spread", CONTINUOUS)
    rebuilt = TeamPolicy(**payload["policy_args"])
    rebuilt.load_state_dict(payload["state_dict"])
    obs = torch.randn(5, 3, 18)
    torch.testing.assert_close(rebuilt.sample(obs, deterministic=True)[0], team.sample(obs, deterministic=True)[0])
    box = payload["policy_args"]["boxes"]["agent"]
    for wrong in ({"low": box["low"], "high": [math.inf] * 5}, {"low": box["high"], "high": box["low"]},
                  {"low": box["low"][:4], "high": box["high"][:4]}, {"low": [True] * 5, "high": box["high"]},
                  {"low": box["low"]}, [0.0, 1.0]):
        args = {**payload["policy_args"], "boxes": {"agent": wrong}}
        with pytest.raises(CheckpointError, match="boxes.agent"):
            check_payload({**payload, "policy_args": args}, "simple_spread", CONTINUOUS)
    args = {**payload["policy_args"], "boxes": {"agent": box, "other": box}}
    with pytest.raises(CheckpointError, match="boxes"):
        check_payload({**payload, "policy_args": args}, "simple_spread", CONTINUOUS)
    with pytest.raises(CheckpointError):  # a discrete league's checkpoint is not this game
        check_payload(payload, "simple_spread", {})


def test_a_person_s_held_arrow_keys_push_along_the_box_s_axes():
    keymap = SPREAD.key_map("agent", **CONTINUOUS)
    assert keymap == DEFAULT_BOX_KEY_MAP
    assert human_action(keymap, set()).tolist() == [0, 0, 0, 0, 0]
    assert human_action(keymap, {"left", "up"}).tolist() == [0, 1, 0, 0, 1]  # diagonally
    assert human_action(keymap, {"left", "right"}).tolist() == [0, 1, 1, 0, 0]  # pushes cancel: mpe2 moves by r - l
    assert SPREAD.key_map("agent") != keymap  # the discrete game keeps its own map
    with pytest.raises(GameError, match="numbers and has no key map"):  # Box(-1, 1, (4,)) torques: no map yet
        games.get("pettingzoo.sisl.multiwalker_v9:parallel_env").key_map("walker")


BAD_GAMES = textwrap.dedent('''
    import numpy as np
    from gymnasium.spaces import Box, Discrete
    from pettingzoo import ParallelEnv


    class Game(ParallelEnv):
        metadata = {"name": "box_test", "render_fps": 10}

        def __init__(self, spaces, **kwargs):
            self.spaces = spaces
            self.possible_agents = list(spaces)

        def observation_space(self, agent):
            return Box(-1, 1, (3,), np.float32)

        def action_space(self, agent):
            return self.spaces[agent]

        def reset(self, seed=None, options=None):
            self.agents, self.t = list(self.possible_agents), 0
            return {a: np.zeros(3, np.float32) for a in self.agents}, {a: {} for a in self.agents}

        def step(self, actions):
            self.t += 1
            done = self.t >= 5
            obs = {a: np.zeros(3, np.float32) for a in self.agents}
            out = (obs, {a: 0.0 for a in self.agents}, {a: False for a in self.agents},
                   {a: done for a in self.agents}, {a: {} for a in self.agents})
            if done:
                self.agents = []
            return out


    def unbounded(**kw):
        return Game({"walker_0": Box(-np.inf, np.inf, (2,), np.float32)})

    def empty(**kw):
        return Game({"walker_0": Box(np.array([0, 1], np.float32), np.array([1, 1], np.float32))})

    def grid(**kw):
        return Game({"walker_0": Box(0, 1, (2, 2), np.float32)})

    def huge(**kw):
        return Game({"walker_0": Box(-1e9, 1e9, (2,), np.float32)})

    def mixed(**kw):
        return Game({"walker_0": Box(0, 1, (2,), np.float32), "caller_0": Discrete(3)})
''')


@pytest.mark.parametrize("entry, needle", [("unbounded", "bounds must be finite"), ("empty", "low < high"),
                                           ("grid", "only a flat Box"), ("huge", "bounds must be finite"),
                                           ("mixed", "mix the two")])
def test_a_box_the_league_cannot_play_is_one_error_line(tmp_path, monkeypatch, entry, needle):
    (tmp_path / "box_games.py").write_text(BAD_GAMES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    try:
        result = CliRunner().invoke(cli, ["games", "--game", f"box_games:{entry}"])
        one_error_line(result, needle)
    finally:
        sys.modules.pop("box_games", None)
        games.get.cache_clear()


def test_a_person_plays_a_continuous_seat_and_the_stored_game_resimulates_and_is_rated(tmp_path, tiny_league):
    import pygame

    from league.players import player_policy
    from league.reports import leaderboard
    from viewer.play import human_match, play_episode

    store, manager = tiny_league(tmp_path, "simple_spread", CONTINUOUS, opponents=["random"], match_seeds=1)
    lg = manager.league
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((600, 700))
    try:
        partner, policy = player_policy(store, lg, "alpha/g0")
        episode = play_episode("simple_spread", CONTINUOUS, policy, "agent_2", seed=5, fps=1000, screen=screen,
                               held_keys=lambda: {"right", "down"})
    finally:
        pygame.display.quit()
    assert episode.actions.dtype == np.float32
    assert (episode.actions[:, 2] == np.float32([0, 0, 1, 1, 0])).all()  # right and down, every step
    assert resimulate(episode) is None
    human = store.ensure_player(lg["id"], "human:t", "human")
    match = store.add_match(lg["id"], "human", human["id"], partner["id"],
                            human_match("simple_spread", CONTINUOUS, episode, policy))
    assert all(resimulate(e) is None for e in store.episodes(match["id"]))
    assert "human:t" in {r["player"] for r in leaderboard(store, lg)}


def test_pettingzoo_s_box_games_are_read_with_the_horizon_the_env_holds_and_multiwalker_trains():
    """cooperative_pong keeps max_cycles = 900 on the AEC env inside its parallel wrapper: read, not searched for
    by random play (which never reached it); multiwalker's Box(-1, 1, (4,)) walkers train on the generic runner."""
    pytest.importorskip("pettingzoo.butterfly")
    assert games.get("pettingzoo.butterfly.cooperative_pong_v6:parallel_env").info().horizon == 900
    walkers = "pettingzoo.sisl.multiwalker_v9:parallel_env"
    info = games.get(walkers).info()
    assert info.horizon == 500 and info.action_boxes == {"walker": ((-1.0,) * 4, (1.0,) * 4)}
    result = train(GRPOConfig(game=walkers, seed=0, groups=2, group_size=2, hidden=16, threads=1), max_env_steps=500)
    assert result.policy.continuous and math.isfinite(result.metrics[-1]["mean_return"])


def test_box_teams_learn_at_their_own_rate_and_their_spread_has_a_floor():
    from league.config import BOX_LR, with_preset

    assert with_preset({"game": "simple_spread", "game_kwargs": CONTINUOUS})["lr"] == BOX_LR
    assert with_preset({"game": "simple_spread", "game_kwargs": CONTINUOUS, "lr": 0.01})["lr"] == 0.01  # yours wins
    assert "lr" not in with_preset({"game": "simple_spread"})  # discrete: the defaults' rate
    team = TeamPolicy.for_game(SPREAD.info(**CONTINUOUS), hidden=16)
    with torch.no_grad():
        team.log_std["agent"].fill_(-9.0)
    _, _, log_std = team.mixture(torch.zeros(2, 3, 18))
    assert (log_std == box_actions.LOG_STD_MIN).all()


def test_the_memory_estimate_counts_the_numbers_a_box_team_keeps():
    from league.resources import check_resources, network_parameters

    numbers = GRPOConfig(game="simple_spread", game_kwargs=CONTINUOUS)
    moves = GRPOConfig(game="simple_spread", lr=numbers.lr)  # the same game with discrete moves, same spaces
    agent_steps = numbers.groups * numbers.group_size * 25 * 3
    extra = network_parameters(numbers) - network_parameters(moves)  # the spread: one per number
    assert extra == 5
    difference = check_resources(numbers).training_bytes - check_resources(moves).training_bytes
    assert difference == agent_steps * 8 * 5 + extra * 4 * 6


# ---------------------------------------------------------------- the games with words, played with numbers

WORD_GAMES = {"simple_speaker_listener": 0, "simple_reference": 5}  # game -> moves in an action (0: words only)


def as_numbers_policy(policy, game):
    """A discrete team policy played in the game with numbers: its actions as the one-hot numbers that act the
    same (`games.scripted.as_numbers`)."""
    from games.scripted import as_numbers

    discrete = games.get(game).info()
    return lambda obs, info: as_numbers(np.asarray(policy(obs, discrete)), info, WORD_GAMES[game])


@pytest.mark.parametrize("game", WORD_GAMES)
def test_the_plan_and_the_partner_styles_of_the_word_games_act_the_same_with_numbers(game):
    from games.styles import partner_style

    spec = games.get(game)
    seeds = eval_seeds(24)
    assert (play(game, spec.scripted, seeds, CONTINUOUS) == play(game, spec.scripted, seeds)).all()
    for style in ("slow", "stubborn", "natural"):  # slips draws random numbers: no discrete twin
        with_numbers = play(game, partner_style(spec, style, spec.info(**CONTINUOUS)), seeds, CONTINUOUS)
        assert (with_numbers == play(game, partner_style(spec, style, spec.info()), seeds)).all(), style


def test_a_code_spoken_with_numbers_is_read_and_a_person_s_keys_say_its_words():
    from test_conventions import REF_PERM, SL_PERM, codes, permuted_reference, permuted_speaker_listener

    from league.conventions import describe, word_meanings

    game = "simple_speaker_listener"
    discrete = word_meanings(permuted_speaker_listener(SL_PERM), game, seats=["listener_0", "speaker_0"])
    numbers = word_meanings(as_numbers_policy(permuted_speaker_listener(SL_PERM), game), game, CONTINUOUS,
                            seats=["listener_0", "speaker_0"])
    assert codes(numbers) == codes(discrete) and codes(numbers)[0] == {"speaker_0": {g: int(SL_PERM[g])
                                                                                     for g in range(3)}}
    assert [line for line in describe(numbers, you="speaker_0") if line.startswith("key")] == [  # G, B: A's 1 away
        "key r/1 sends A: listener_0 goes to green  100%",
        "key g/2 sends B: listener_0 goes to blue  100%",
        "key b/3 sends C: listener_0 goes to red  100%",
    ]
    game = "simple_reference"
    numbers = word_meanings(as_numbers_policy(permuted_reference(REF_PERM), game), game, CONTINUOUS,
                            seats=["agent_1"])
    assert codes(numbers) == codes(word_meanings(permuted_reference(REF_PERM), game, seats=["agent_1"]))
    assert describe(numbers, you="agent_0")[-1].startswith("you always send A: agent_1 goes to ")


def test_a_person_speaks_with_numbers_and_a_league_of_a_word_game_trains_with_them(tmp_path, tiny_league):
    import pygame

    from league.players import player_policy
    from viewer.play import human_match, play_episode

    spec = games.get("simple_speaker_listener")
    assert spec.key_map("speaker", **CONTINUOUS).idle == (1, 0, 0)  # no key says A, as in the discrete game
    # the league trains, plays its matches against the scripted plan and stores them (all with numbers)
    store, manager = tiny_league(tmp_path, "simple_speaker_listener", CONTINUOUS, opponents=["scripted"],
                                 match_seeds=2, generations=1)
    lg = manager.league
    assert {"default/alpha/g0", "default/alpha/g1"} <= {g["name"] for g in store.generations(lg["id"])}
    assert store.matches(lg["id"])
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((600, 700))
    try:
        partner, policy = player_policy(store, lg, "alpha/g0")
        episode = play_episode("simple_speaker_listener", CONTINUOUS, policy, "speaker_0", seed=5, fps=1000,
                               screen=screen, held_keys=lambda: {"g"})
    finally:
        pygame.display.quit()
    assert (episode.actions[:, 0] == np.float32([0, 1, 0, 0, 0])).all()  # word B, the speaker's padding 0
    assert resimulate(episode) is None
    result = human_match("simple_speaker_listener", CONTINUOUS, episode, policy)
    assert all(resimulate(e) is None for e in result.episodes)
