"""Duplicate and mixed matches, exact replays for every game, scheduling, and refusing bad matches."""

import numpy as np
import pytest
from click.testing import CliRunner

import games
from league.cli import cli
from league.config import GRPOConfig
from league.matches import MatchError, duplicate_match, outcome, play_match
from league.players import PlayerError
from league.replays import resimulate
from league.store import StoreError

SHORT = {"knights_archers_zombies": {"max_cycles": 60}, "pursuit": {"max_cycles": 40}}


def test_outcome_tolerance():
    assert outcome(-3.0, -3.0005) == 0.5 and outcome(-3.0, -3.01) == 1.0 and outcome(-5.0, -3.0) == 0.0


@pytest.mark.parametrize("game", games.names())
def test_replays_resimulate_exactly(game, tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, game, SHORT.get(game, {}), match_seeds=4)
    league = manager.league
    match = play_match(store, league, "default/alpha/g0", "random", seeds=2)
    episodes = store.episodes(match["id"])
    assert len(episodes) == 4 and [e.seed for e in episodes[:2]] == [e.seed for e in episodes[2:]]
    for e in episodes:
        assert e.game == game and e.game_kwargs == league["game_kwargs"]
        assert resimulate(e) is None
    # a changed action is caught at the first step whose state differs
    e = episodes[0]
    e.actions = e.actions.copy()
    row = int(np.argmax((e.actions != 255).all(1)))
    info = games.get(game).info(**league["game_kwargs"])
    e.actions[row] = (e.actions[row] + 1) % info.n_actions[games.spec.role_of(info.agents[0])]
    bad = resimulate(e)
    assert bad is not None and bad >= row
    store.close()


def test_self_match_is_even(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, match_seeds=4)
    m = play_match(store, manager.league, "alpha/g0", "alpha/g0", seeds=8)
    assert m["score_a"] == 4.0  # the same deterministic team: every seed a draw
    assert all(a != b for a, b, _ in store.rated_results(manager.league["id"]))  # stored, never rated
    spec = games.get("simple_spread")
    from league.evaluate import random_policy

    info = spec.info()
    seeds = list(range(5000, 5200))
    result = duplicate_match("simple_spread", {}, random_policy(info, 1), random_policy(info, 2), seeds)
    score = result.score_a / len(seeds)
    half_width = 1.96 * np.sqrt(0.25 / len(seeds))
    assert abs(score - 0.5) <= half_width
    store.close()


def test_mixed_match_records_seats(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, match_seeds=4)
    rated = store.rated_results(manager.league["id"])
    m = play_match(store, manager.league, "alpha/g0", "scripted", seeds=3, mixed=True)
    assert m["kind"] == "mixed" and m["score_a"] is None
    seats = [e.seats for e in store.episodes(m["id"])]
    assert seats == [[0, 1, 0]] * 3 + [[1, 0, 1]] * 3
    assert store.rated_results(manager.league["id"]) == rated  # mixed matches are not rated
    store.close()


def test_bad_matches_are_refused_and_store_nothing(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, match_seeds=4)
    league = manager.league
    before = store.matches(league["id"])  # g0's own scheduled matches
    with pytest.raises(StoreError, match="unknown team"):
        play_match(store, league, "omega/g0", "random")
    with pytest.raises(MatchError, match="seeds"):
        play_match(store, league, "alpha/g0", "random", seeds=0)
    with pytest.raises(PlayerError, match="viewer"):
        play_match(store, league, "human:ann", "random")
    path = store.generation("alpha/g0", "default")["checkpoint"]
    import os

    os.remove(path)
    with pytest.raises(Exception, match="not found"):
        play_match(store, league, "alpha/g0", "random")
    assert store.matches(league["id"]) == before
    runner = CliRunner()
    db = str(tmp_path / "league.db")
    for args, needle, code in ((["match", "alpha/g0", "random", "--db", db], "not found", 1),
                               (["match", "random", "nobody/g1", "--db", db], "nobody", 1),
                               (["match", "random", "scripted", "--seeds", "0", "--db", db], "--seeds", 2)):
        result = runner.invoke(cli, args)  # 2: a value the option never takes (a usage error)
        assert result.exit_code == code and "Traceback" not in result.output and needle in result.output
    assert store.matches(league["id"]) == before
    store.close()


def test_league_schedules_matches_and_later_generations_rate_higher(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, grpo=GRPOConfig(), teams=2, generations=1,  # real training: the defaults
                                 steps_per_generation=400_000, match_seeds=16, seed=0)
    league = manager.league
    matches = store.matches(league["id"])
    opponents = {m["name_b"] for m in matches if m["name_a"] == "default/beta/g1"}
    assert {"default/beta/g0", "default/alpha/g1", "random", "scripted"} <= opponents
    from league.reports import leaderboard

    elo = {r["player"]: r for r in leaderboard(store, league)}
    for team in ("alpha", "beta"):
        g1, g0 = elo[f"default/{team}/g1"], elo[f"default/{team}/g0"]
        assert g1["elo"] - g1["interval"] > g0["elo"]
        assert g1["elo"] - g1["interval"] > elo["random"]["elo"]
    store.close()
