"""The league manager survives kill -9 and Ctrl-C, lets readers in while it writes, and refuses bad input."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import one_error_line
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


def train_args(d):
    return [sys.executable, "-m", "league", "train", "--config", str(d / "league.toml"),
            "--db", str(d / "league.db"), "--checkpoints", str(d / "ck")]


def run_train(d, crash_at=None, timeout=240):
    env = {**os.environ, "LEAGUE_CRASH_AT": crash_at or ""}
    return subprocess.run(train_args(d), env=env, capture_output=True, text=True, timeout=timeout)


def generation_rows(d):
    con = sqlite3.connect(d / "league.db")
    try:
        return con.execute(
            "SELECT t.name, g.number, g.checkpoint, g.sha256 FROM generations g JOIN teams t ON t.id = g.team_id "
            "ORDER BY t.name, g.number").fetchall()
    finally:
        con.close()


def assert_consistent(d, complete):
    con = sqlite3.connect(d / "league.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    rows = generation_rows(d)
    by_team = {}
    for team, number, path, digest in rows:
        by_team.setdefault(team, []).append(number)
        assert os.path.exists(path) and sha256_file(path) == digest
    for numbers in by_team.values():
        assert numbers == list(range(len(numbers)))  # consecutive from g0, no duplicates
    if complete:
        assert by_team == {"alpha": [0, 1, 2, 3], "beta": [0, 1, 2, 3]}


def wait_for_generations(d, count, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (d / "league.db").exists():
            try:
                if len(generation_rows(d)) >= count:
                    return
            except sqlite3.OperationalError:
                pass
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    raise AssertionError("training made no progress")


ITERATIONS = 8
"""Training iterations of one TINY generation: 6,000 steps at 8 groups x 4 x 25 steps = 800 an iteration."""


class ResumedLeagueDiffers(AssertionError):
    """A generation redone after a crash differs from the uninterrupted league's."""


def training_iterations(d, team, number):
    con = sqlite3.connect(d / "league.db")
    try:
        return con.execute("SELECT COUNT(*) FROM training_metrics m JOIN generations g ON g.id = m.generation_id "
                           "JOIN teams t ON t.id = g.team_id WHERE t.name = ? AND g.number = ?",
                           (team, number)).fetchone()[0]
    finally:
        con.close()


def test_sigkill_mid_generation_and_at_saving_then_resume(league_dir, trained):
    d = league_dir
    # 1. killed in the middle of a generation: SIGKILL at the 3rd training iteration of beta/g1 (the rounds are
    #    alpha/g1, beta/g1, ...; `worker-train` is passed once per training iteration and nowhere else)
    result = run_train(d, crash_at=f"worker-train:{ITERATIONS + 3}")
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    assert_consistent(d, complete=False)
    assert [(team, number) for team, number, _, _ in generation_rows(d)] == [("alpha", 0), ("alpha", 1), ("beta", 0)]
    assert training_iterations(d, "alpha", 1) == ITERATIONS  # so the kill came 3 iterations into beta/g1
    assert "saved default/alpha/g1" in result.stdout and "matches" in result.stdout  # alpha/g1's round ended
    assert not list((d / "ck" / "default" / "beta").glob("g1*"))  # nothing of beta/g1 was saved
    before = len(generation_rows(d))
    # 2. killed after a checkpoint is on disk but before its row is committed
    result = run_train(d, crash_at="after-save")
    assert result.returncode == -signal.SIGKILL
    assert_consistent(d, complete=False)
    assert len(generation_rows(d)) == before
    # 3. killed after training, just before the checkpoint is written
    result = run_train(d, crash_at="before-save")
    assert result.returncode == -signal.SIGKILL
    assert_consistent(d, complete=False)
    # 4. the same command finishes the league
    result = run_train(d)
    assert result.returncode == 0, result.stderr
    assert_consistent(d, complete=True)
    assert not list((d / "ck").rglob("*.tmp"))
    # 5. and a rerun of a finished league trains nothing more
    result = run_train(d)
    assert result.returncode == 0 and "0 new generation" in result.stdout
    # 6. the generation redone after the crashes is the one the uninterrupted league trained (`trained`: the same
    #    league and seeds, one generation per team, never killed)
    uninterrupted = {(team, number): digest for team, number, _, digest in generation_rows(trained)}
    resumed = {(team, number): digest for team, number, _, digest in generation_rows(d) if number <= 1}
    assert set(resumed) == set(uninterrupted) == {("alpha", 0), ("alpha", 1), ("beta", 0), ("beta", 1)}
    if resumed != uninterrupted:
        raise ResumedLeagueDiffers(f"differ: {sorted(k for k in resumed if resumed[k] != uninterrupted[k])}")


def test_ctrl_c_stops_cleanly_with_one_line(league_dir):
    d = league_dir
    proc = subprocess.Popen(train_args(d), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_generations(d, 3, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("Interrupted")] != []
    assert_consistent(d, complete=False)
    assert run_train(d).returncode == 0
    assert_consistent(d, complete=True)


def test_readers_never_see_a_locked_database(league_dir):
    d = league_dir
    proc = subprocess.Popen(train_args(d), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for_generations(d, 1, proc)
    runner = CliRunner()
    reads = 0
    while proc.poll() is None:
        result = runner.invoke(cli, ["generations", "--db", str(d / "league.db"), "--json"])
        assert result.exit_code == 0, result.output
        json.loads(result.output)
        reads += 1
    assert proc.returncode == 0, proc.stderr.read()
    assert reads > 5
    assert_consistent(d, complete=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("trained")
    (d / "league.toml").write_text(TINY.replace("generations = 3", "generations = 1"))
    assert run_train(d).returncode == 0
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
    result = subprocess.run(train_args(d), capture_output=True, text=True, timeout=120)
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
