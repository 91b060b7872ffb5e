"""Hostile or careless input at the command line and in stored rows: one `Error` line (or click's usage
error), a non-zero exit, no traceback, nothing lost."""

import sqlite3

import pytest
from click.testing import CliRunner

from conftest import one_error_line
from league.cli import cli
from league.config import GRPOConfig, LeagueConfig
from league.manager import LeagueManager
from league.matches import play_match
from league.store import Store


def make_league(tmp_path):
    """A one-team league with g0 and one stored duplicate match (alpha/g0 vs random, 2 seeds)."""
    store = Store.open(tmp_path / "league.db", create=True)
    config = LeagueConfig(teams=1, generations=0, grpo=GRPOConfig(groups=8, group_size=4, hidden=16), match_seeds=2)
    manager = LeagueManager(store, config, tmp_path / "ck")
    manager.run()
    match = play_match(store, manager.league, "alpha/g0", "random", seeds=2)
    return store, match, str(tmp_path / "league.db"), tmp_path


@pytest.fixture
def league(tmp_path):
    """A league of one's own, for a test that changes it."""
    store, *rest = make_league(tmp_path)
    yield store, *rest
    store.close()


@pytest.fixture(scope="module")
def shared_league(tmp_path_factory):
    """One league for the tests that must leave it as it was."""
    store, *rest = make_league(tmp_path_factory.mktemp("shared"))
    yield store, *rest
    store.close()


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("args, needle", [
    (["render", 2**63, "--out", "x.png"], "2**63"),
    (["render", -1, "--out", "x.png"], "MATCH_ID"),
    (["watch", str(2**70)], "not a match id"),
    (["watch", "1", "--seeds", 10**6], "--seeds"),
    (["play", "--seed", 2**40], "--seed"),
    (["play", "--fps", "nan"], "--fps"),
    (["match", "alpha/g0", "random", "--seeds", 10**6], "--seeds"),
    (["bench", "learn", "--minutes", "nan"], "--minutes"),
    (["bench", "learn", "--minutes", "inf"], "--minutes"),
    (["bench", "learn", "--seed", 2**64], "--seed"),
    (["bench", "ratings", "--players", 10**9], "--players"),
    (["bench", "env", "--seconds", "1e308"], "--seconds"),
    (["bench", "league", "--steps", 10**18], "--steps"),
    (["bench", "busy", "--seconds", "nan"], "--seconds"),
    (["games", "--game", "simple_spread", "--game-option", "N=NaN"], "finite"),
    (["games", "--game", "simple_spread", "--game-option", "N"], "KEY=VALUE"),
])
def test_numbers_nothing_can_hold_are_refused_at_the_edge(shared_league, args, needle):
    store, _, db, _ = shared_league
    before = len(store.matches(store.league("default")["id"]))
    db_args = ["--db", db] if args[0] in ("render", "watch", "play", "match") else []
    result = invoke(*args, *db_args)
    assert result.exit_code in (1, 2) and "Traceback" not in result.output, result.output
    assert needle.replace("2**63", "") in result.output or "range" in result.output, result.output
    assert len(store.matches(store.league("default")["id"])) == before


def tamper(db: str, sql: str) -> None:
    with sqlite3.connect(db) as c:
        c.execute(sql)


@pytest.mark.parametrize("sql, needle", [
    ("UPDATE episodes SET actions = CAST(X'FFFEFF' || substr(actions, 4) AS BLOB) WHERE id = {first}", "out of range"),
    ("UPDATE episodes SET actions = X'FFFEFF' || substr(actions, 4) WHERE id = {first}", "Could not decode"),
    ("UPDATE episodes SET seed = -5 WHERE id = {first}", "seed -5"),
    ("UPDATE episodes SET game = 'pursuit' WHERE id = {first}", "seats"),
    ("UPDATE episodes SET game_kwargs = '{\"N\": 2}' WHERE id = {first}", "seats"),
    ("UPDATE episodes SET game_kwargs = '{\"max_cycles\": 30}' WHERE id = {first}", "not of its league's game"),
    ("UPDATE episodes SET steps = 999 WHERE id = {first}", "out of range"),
    ("UPDATE episodes SET actions = X'00' WHERE id = {first}", "not 25 steps long"),
    ("UPDATE episodes SET game = 'chess' WHERE id = {first}", "unknown game 'chess'"),
])
def test_tampered_episodes_are_one_line_in_watch_and_render(league, sql, needle):
    store, match, db, tmp_path = league
    tamper(db, sql.replace("{first}", f"(SELECT min(id) FROM episodes WHERE match_id = {match['id']})"))
    for command in (["render", match["id"], "--out", tmp_path / "m.gif"], ["watch", match["id"]]):
        one_error_line(invoke(*command, "--db", db), needle)
    assert not (tmp_path / "m.gif").exists()


def test_render_makes_missing_folders_and_watch_refuses_an_episode_it_does_not_have(league):
    store, match, db, tmp_path = league
    out = tmp_path / "new" / "deeper" / "m.png"
    assert invoke("render", match["id"], "--out", out, "--db", db).exit_code == 0 and out.stat().st_size > 500
    result = invoke("watch", match["id"], "--episode", 3, "--db", db)
    assert result.exit_code == 2 and "has 2 episodes" in result.output


def test_matches_of_an_unknown_player_is_an_error_not_an_empty_list(shared_league):
    _, _, db, _ = shared_league
    one_error_line(invoke("matches", "--player", "nobody", "--db", db), "unknown player 'nobody'")
    assert "alpha/g0" in invoke("matches", "--player", "random", "--db", db).output
