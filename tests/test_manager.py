"""The league manager stops cleanly on Ctrl-C, lets readers in while it writes, and refuses bad input."""

import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import one_error_line
from league_process import LeagueProcess, query, rows_so_far, run_league, train_command
from league.checkpoints import sha256_file
from league.cli import cli

TINY = """
[league]
teams = 2
generations = 3
steps_per_generation = 6000
match_seeds = 2
opponents = ["parent", "random"]

[grpo]
groups = 8
group_size = 4
hidden = 16
epochs = 1
"""


@pytest.fixture
def league_dir(tmp_path):
    (tmp_path / "league.toml").write_text(TINY)
    return tmp_path


GENERATIONS = ("SELECT t.name, g.number, g.checkpoint, g.sha256 FROM generations g JOIN teams t ON t.id = g.team_id "
               "ORDER BY t.name, g.number")


def generation_rows(d):
    return query(d / "league.db", GENERATIONS)


def assert_consistent(d, complete):
    assert query(d / "league.db", "PRAGMA integrity_check") == [("ok",)]
    rows = generation_rows(d)
    by_team = {}
    for team, number, path, digest in rows:
        by_team.setdefault(team, []).append(number)
        assert os.path.exists(path) and sha256_file(path) == digest
    for numbers in by_team.values():
        assert numbers == list(range(len(numbers)))  # consecutive from g0, no duplicates
    if complete:
        assert by_team == {"alpha": [0, 1, 2, 3], "beta": [0, 1, 2, 3]}


# kill -9 at every crash point, then the rerun: tests/test_resume.py.


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_one_line(league_dir):
    d = league_dir
    with LeagueProcess(train_command(d)) as league:
        league.wait_for_line("saved default/alpha/g1")  # g0s and alpha/g1 recorded, beta/g1 in training
        assert len(generation_rows(d)) >= 3
        league.interrupt()
        code, _, err = league.finish(timeout=60)
    assert code == 130
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("Interrupted")] != []
    assert_consistent(d, complete=False)
    assert run_league(train_command(d)).returncode == 0
    assert_consistent(d, complete=True)


@pytest.mark.slow
def test_readers_never_see_a_locked_database(league_dir):
    d = league_dir
    with LeagueProcess(train_command(d)) as league:
        league.wait_until(lambda: rows_so_far(d / "league.db", GENERATIONS), what="a generation is recorded")
        runner = CliRunner()
        reads = 0
        while league.running():
            result = runner.invoke(cli, ["generations", "--db", str(d / "league.db"), "--json"])
            assert result.exit_code == 0, result.output
            json.loads(result.output)
            reads += 1
        code, _, err = league.finish()
    assert code == 0, err
    assert reads > 5
    assert_consistent(d, complete=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("trained")
    (d / "league.toml").write_text(TINY.replace("generations = 3", "generations = 1"))
    assert run_league(train_command(d)).returncode == 0
    return d


def cli_run(*args):
    return CliRunner().invoke(cli, list(args))


def test_listings_and_show(trained):
    db = str(trained / "league.db")
    leagues = json.loads(cli_run("leagues", "--db", db, "--json").output)
    assert [(r["name"], r["game"], r["generations"]) for r in leagues] == [("default", "simple_spread", 4)]
    teams = json.loads(cli_run("teams", "--db", db, "--json").output)
    assert [(t["name"], t["latest"]) for t in teams] == [("alpha", 1), ("beta", 1)]
    gens = json.loads(cli_run("generations", "--db", db, "--team", "beta", "--json").output)
    assert [g["name"] for g in gens] == ["default/beta/g0", "default/beta/g1"]
    shown = json.loads(cli_run("show", "beta/g1", "--db", db, "--json").output)
    assert shown["parent"] == "default/beta/g0" and shown["checkpoint_check"] == "ok"
    assert shown["train_steps"] >= 6000 and "mean_return" in shown["metrics"]


def test_tampered_checkpoint_is_reported_and_blocks_training(trained, tmp_path):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(trained, d)
    db = str(d / "league.db")
    con = sqlite3.connect(db)
    con.execute("UPDATE generations SET checkpoint = replace(checkpoint, ?, ?)", (str(trained), str(d)))
    con.commit()
    con.close()
    path = next(Path(p) for team, number, p, _ in generation_rows(d) if (team, number) == ("alpha", 1))
    assert path.name.startswith("g1-") and path.is_absolute()  # content-hashed name
    digest = sha256_file(path)
    path.write_bytes(path.read_bytes()[:-10])
    shown = json.loads(cli_run("show", "alpha/g1", "--db", db, "--json").output)
    assert shown["checkpoint_check"].startswith("FAILED") and digest in shown["checkpoint_check"]
    (d / "league.toml").write_text(TINY.replace("generations = 3", "generations = 2"))
    result = run_league(train_command(d), timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert str(path) in result.stderr and digest in result.stderr
    assert len(generation_rows(d)) == 4  # nothing new was recorded


def test_bad_inputs_are_one_line_and_write_nothing(trained, tmp_path):
    db = str(trained / "league.db")
    missing = tmp_path / "missing.db"
    one_error_line(cli_run("generations", "--db", str(missing)), "no database")
    assert not missing.exists()
    one_error_line(cli_run("teams", "--db", db, "--league", "nope"), "nope", "default")
    one_error_line(cli_run("generations", "--db", db, "--team", "omega"), "omega", "alpha")
    one_error_line(cli_run("show", "alpha/g9", "--db", db))
    one_error_line(cli_run("show", "not-a-name!", "--db", db))
    bad = tmp_path / "bad.toml"
    bad.write_text('[league]\nteams = "two"\n')
    fresh = tmp_path / "fresh.db"
    one_error_line(cli_run("train", "--config", str(bad), "--db", str(fresh)), "teams")
    bad.write_text("[grpo]\ngroup_size = 1\n")
    one_error_line(cli_run("train", "--config", str(bad), "--db", str(fresh)), "group_size")
    bad.write_text("[league\n")
    one_error_line(cli_run("train", "--config", str(bad), "--db", str(fresh)), "TOML")
    one_error_line(cli_run("train", "--game", "chess", "--db", str(fresh)), "chess")
    one_error_line(cli_run("train", "--db", str(tmp_path / "no" / "such" / "dir.db")), "dir.db")
    assert not fresh.exists()
    one_error_line(cli_run("train", "--game", "pursuit", "--db", db), "simple_spread", "pursuit")
    bad.write_text("[grpo]\ngame_kwargs = { N = 4 }\n")
    one_error_line(cli_run("train", "--config", str(bad), "--db", db), "options", "use another --league")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    one_error_line(cli_run("leagues", "--db", str(garbage)), "not a database")
    assert garbage.read_bytes() == b"this is not sqlite at all" * 100
