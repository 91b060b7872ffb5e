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
    (["render", 2**63, "--out", "x.png"],
     "'MATCH_ID': 9223372036854775808 is not in the range 1<=x<=9223372036854775807"),
    (["render", -1, "--out", "x.png"], "No such option '-1'"),
    (["watch", str(2**70)], "1180591620717411303424 is not in the range 1<=x<=9223372036854775807"),
    (["watch", "1", "--seeds", 10**6], "'--seeds': 1000000 is not in the range"),
    (["play", "--seed", 2**40], "'--seed': 1099511627776 is not in the range"),
    (["play", "--fps", "nan"], "'--fps': 'nan' is not a finite number"),
    (["match", "alpha/g0", "random", "--seeds", 10**6], "'--seeds': 1000000 is not in the range"),
    (["bench", "learn", "--minutes", "nan"], "'--minutes': 'nan' is not a finite number"),
    (["bench", "learn", "--minutes", "inf"], "'--minutes': 'inf' is not a finite number"),
    (["bench", "learn", "--seed", 2**64], "'--seed': 18446744073709551616 is not in the range"),
    (["bench", "ratings", "--players", 10**9], "'--players': 1000000000 is not in the range"),
    (["bench", "env", "--seconds", "1e308"], "'--seconds': 1e+308 is not in the range"),
    (["bench", "league", "--steps", 10**18], "'--steps': 1000000000000000000 is not in the range"),
    (["bench", "busy", "--seconds", "nan"], "'--seconds': 'nan' is not a finite number"),
    (["games", "--game", "simple_spread", "--game-option", "N=NaN"], "N must be a finite number, got NaN"),
    (["games", "--game", "simple_spread", "--game-option", "N"], "expected KEY=VALUE with KEY a name, got 'N'"),
])
def test_numbers_nothing_can_hold_are_refused_at_the_edge(shared_league, args, needle):
    store, _, db, _ = shared_league
    before = len(store.matches(store.league("default")["id"]))
    db_args = ["--db", db] if args[0] in ("render", "watch", "play", "match") else []
    result = invoke(*args, *db_args)
    assert result.exit_code in (1, 2), result.output
    one_error_line(result, needle)
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
    ("DELETE FROM episodes", "has no stored episodes"),
    ("DELETE FROM episodes WHERE id = {first}", "stores 3 episodes for 2 seed(s), not one per seed on each side"),
    ("UPDATE episodes SET seed = 7 WHERE id = {first}", "not one per seed on each side"),
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


@pytest.mark.parametrize("command", [["games"], ["bench", "env", "--seconds", "0.1", "--batch-sizes", "1"],
                                     ["train", "--generations", "0"]])
@pytest.mark.parametrize("game, option, needle", [
    ("simple_spread", "N=true", "option N must be an integer from 2 to 32, got True"),
    ("simple_spread", "N=200", "option N must be an integer from 2 to 32, got 200"),
    ("simple_spread", "max_cycles=null", "option max_cycles must be an integer from 1 to 100000, got None"),
    ("simple_spread", "max_cycles=2.5", "got 2.5"),
    ("simple_spread", "local_ratio=1.5", "option local_ratio must be a finite number from 0.0 to 1.0"),
    ("pursuit", "x_size=1", "option x_size must be an integer from 3 to 100, got 1"),
    ("pursuit", "x_size=5", "30 agents of a kind need more than 145 open cells in the start window"),
    ("pursuit", "constraint_window=0.1", "emptiest 1x1 window"),
    ("knights_archers_zombies", "max_zombies=100000", "from 0 to 100"),
])
def test_game_options_are_checked_by_the_game_wherever_they_come_in(tmp_path, command, game, option, needle):
    """Before: `games` and `bench env` skipped train's check (N=true was a TypeError, max_cycles=null too) and
    pursuit's x_size=1 searched for a free cell forever; the game's own bounds now hold on every path."""
    db = ["--db", tmp_path / "l.db", "--checkpoints", tmp_path / "ck"] if command[0] == "train" else []
    one_error_line(invoke(*command, "--game", game, "--game-option", option, *db), needle)
    assert not (tmp_path / "l.db").exists()


@pytest.mark.parametrize("sql, command, needle", [
    ("UPDATE leagues SET name = '../../escaped'", ["export", "--league", "../../escaped", "--out", "{out}"],
     "stored name '../../escaped'"),
    ("UPDATE results SET return_a = 'abc' WHERE id = (SELECT min(id) FROM results)", ["crossplay"],
     "stored return_a 'abc'"),
    ("UPDATE episodes SET team_return = 'x' WHERE id = (SELECT min(id) FROM episodes)", ["watch", "1"],
     "stored team_return 'x'"),
    ("UPDATE results SET return_b = 1e999 WHERE id = (SELECT min(id) FROM results)", ["export", "--out", "{out}"],
     "stored return_b inf"),
    ("UPDATE results SET outcome = 7 WHERE id = (SELECT min(id) FROM results)", ["ratings"], "is not 1, 0.5 or 0"),
    ("UPDATE leagues SET game_kwargs = '[1]'", ["match", "alpha/g0", "random"], "stored game_kwargs [1]"),
    ("UPDATE leagues SET game_kwargs = '{\"N\": 1000000}'", ["match", "alpha/g0", "random"],
     "option N must be an integer from 2 to 32"),
    ("UPDATE generations SET metrics = '[1, 2]'", ["show", "alpha/g0"], "stored metrics [1, 2]"),
    ("UPDATE generations SET metrics = '{'", ["generations"], "stored metrics '{' (row id 1) is not JSON"),
    ("UPDATE generations SET train_steps = 'many'", ["plot", "learning", "--out", "{out}/p.png"],
     "stored train_steps 'many'"),
    ("UPDATE teams SET name = '..'", ["generations"], "stored team '..'"),
])
def test_tampered_rows_are_one_line_naming_the_value(league, sql, command, needle):
    """Before: tracebacks in crossplay, show, plot and match (TypeError, AttributeError, IndexError), an outcome of
    7 rated as nan, inf exported as `Infinity`, and a league named '../../escaped' exported outside --out."""
    store, match, db, tmp_path = league
    before = len(store.matches(store.league("default")["id"]))
    tamper(db, sql)
    out = tmp_path / "out" / "deeper"
    one_error_line(invoke(*[str(c).replace("{out}", str(out)) for c in command], "--db", db), needle)
    assert not out.exists() and not (tmp_path / "escaped.json").exists()
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM matches").fetchone()[0] == before


def test_devices_pipes_and_huge_files_are_refused_before_they_are_read(league):
    """Before: a checkpoint row pointing at /dev/zero read until memory ran out, and `--config` naming a pipe
    waited forever for a writer."""
    import os

    store, _, db, tmp_path = league
    os.mkfifo(tmp_path / "pipe")
    for target in ("/dev/zero", tmp_path / "pipe"):
        tamper(db, f"UPDATE generations SET checkpoint = '{target}'")
        one_error_line(invoke("match", "alpha/g0", "random", "--db", db), f"checkpoint {target} is not a regular file")
        one_error_line(invoke("train", "--config", target, "--db", db), "not a regular file")
    (tmp_path / "big.toml").write_text("#" * (2**20 + 1))
    one_error_line(invoke("train", "--config", tmp_path / "big.toml", "--db", db), "larger than 1 MiB")


@pytest.mark.parametrize("args, needle", [
    (["bench", "env", "--batch-sizes", "10000000000"], "values must be from 1 to 65,536"),
    (["bench", "env", "--game", "simple_spread", "--game-option", "num_landmark_neighbors=2", "--batch-sizes", "300"],
     "values must be from 1 to 256"),
    (["bench", "ratings", "--players", "100000", "--results", "200000"], "2<=x<=5000"),
    (["bench", "league", "--workers", "1,100000"], "values must be from 1 to 1,024"),
    (["plot", "ratings", "--out", ""], "must name a .png file"),
])
def test_sizes_are_bounded_before_any_work(args, needle):
    """Before: 10**10 envs was numpy's ArrayMemoryError, 100,000 players a 72 GiB matrix, `--out ''` wrote '.png'."""
    result = invoke(*args)
    assert result.exit_code == 2 and needle in result.output and "Traceback" not in result.output, result.output


def test_bench_options_come_from_the_config_file_and_never_overwrite_another_file(tmp_path):
    """Before: `bench learn --out league.db` replaced the database with a checkpoint, and `--game`'s default
    overrode the config file's game (`game = "nope"` ran simple_spread, exit 0)."""
    from league.cli import grpo_config

    (tmp_path / "pursuit.toml").write_text('[game]\nname = "pursuit"\nn_evaders = 4\n')
    config = grpo_config(None, (), str(tmp_path / "pursuit.toml"), None)
    assert (config.game, config.game_kwargs) == ("pursuit", {"n_evaders": 4})
    assert grpo_config("simple_spread", (), None, None).game == "simple_spread"
    (tmp_path / "nope.toml").write_text('[grpo]\ngame = "nope"\n')
    for command in ("learn", "busy"):
        one_error_line(invoke("bench", command, "--config", tmp_path / "nope.toml"), "unknown game 'nope'")
    victim = tmp_path / "league.db"
    victim.write_bytes(b"SQLite format 3\0" + bytes(100))
    one_error_line(invoke("bench", "learn", "--out", victim, "--minutes", "0.01"), "is not a checkpoint")
    assert victim.read_bytes() == b"SQLite format 3\0" + bytes(100)


def test_full_generation_names_work_without_league(league):
    """Before: `league match other/alpha/g0 random` said it belongs to league 'other', not 'default'."""
    store, _, db, tmp_path = league
    other = LeagueConfig(name="other", teams=1, generations=0, grpo=GRPOConfig(groups=8, group_size=4, hidden=16))
    LeagueManager(store, other, tmp_path / "ck").run()
    before = len(store.matches(store.league("other")["id"]))
    result = invoke("match", "other/alpha/g0", "random", "--seeds", 2, "--db", db, "--json")
    assert result.exit_code == 0, result.output
    newest = store.matches(store.league("other")["id"])
    assert len(newest) == before + 1 and (newest[0]["name_a"], newest[0]["seeds"]) == ("other/alpha/g0", 2)
    assert "other/alpha/g0" in invoke("matches", "--player", "other/alpha/g0", "--db", db).output
    one_error_line(invoke("match", "other/alpha/g0", "random", "--league", "default", "--db", db),
                   "belongs to league 'other', not 'default'")  # named: --league wins


@pytest.mark.parametrize("change, needle", [
    (lambda p: {**p, "team": "beta"}, "default/alpha/g0 points at the checkpoint of default/beta/g0"),
    (lambda p: {**p, "state_dict": {k: v * float("nan") for k, v in p["state_dict"].items()}}, "hold nan or inf"),
])
def test_a_recorded_generation_plays_only_its_own_finite_weights(league, change, needle):
    """Before: a row pointing at another generation's checkpoint (its hash too) played and was rated as this
    one, and weights made nan (hash updated) played."""
    from league.checkpoints import load_checkpoint, save_checkpoint

    store, _, db, tmp_path = league
    g = store.generation("alpha/g0", "default")
    digest = save_checkpoint(tmp_path / "other.pt", change(load_checkpoint(g["checkpoint"], g["sha256"])))
    tamper(db, f"UPDATE generations SET checkpoint = '{tmp_path / 'other.pt'}', sha256 = '{digest}'")
    for command in (["match", "alpha/g0", "random"], ["partners", "alpha/g0", "--seeds", "2"]):
        one_error_line(invoke(*command, "--db", db), needle)


def test_a_read_only_database_is_refused_before_training(league):
    """Before: `league train` on an immutable database trained a generation, then failed to record it."""
    import subprocess

    store, _, db, tmp_path = league
    if subprocess.run(["chattr", "+i", db], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        before = len(list((tmp_path / "ck").rglob("*.pt")))
        one_error_line(invoke("train", "--teams", 1, "--generations", 1, "--steps-per-generation", 1000,
                              "--db", db, "--checkpoints", tmp_path / "ck"), "read-only", "nothing was changed")
        assert len(list((tmp_path / "ck").rglob("*.pt"))) == before
    finally:
        subprocess.run(["chattr", "-i", db])


def test_generation_numbers_are_ascii_digits(shared_league):
    """Before: `alpha/g٢` (an Arabic-Indic two) was read as alpha/g2."""
    one_error_line(invoke("show", "alpha/g٢", "--db", shared_league[2]), "bad generation name 'alpha/g٢'")


def test_empty_or_odd_names_are_never_taken_as_not_given():
    """Before: `--ray ''` trained without Ray as if not given, and a login name with a space made `league play`
    fail on --name, an option the person never gave."""
    from viewer.cli import default_name

    one_error_line(invoke("train", "--ray", "", "--generations", 0), "must name a Ray cluster")
    assert (default_name("Jo Smith"), default_name(".hidden"), default_name(None), default_name("jo")) == \
        ("player", "player", "player", "jo")
