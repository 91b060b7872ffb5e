"""A league on Ray workers: the same generations and ratings as the serial run, survives a killed worker or
head, stops cleanly on Ctrl-C, and says in one line how to get Ray when it is missing."""

import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import one_error_line
from league.cli import cli
from league.config import ConfigError
from league.ratings import fit_ratings
from league.store import Store
from league.workers import RAY_HINT, make_workers

pytest.importorskip("ray")

# threads = 1: a generation is then computed with the same floating-point sums in a worker (one CPU each) as in
# the serial run, so equal checkpoints are byte-identical.
TINY = """
[league]
teams = 2
generations = 2
steps_per_generation = 6000
match_seeds = 2
opponents = ["parent", "other_teams", "top", "least_played", "random"]

[grpo]
groups = 8
group_size = 4
hidden = 16
threads = 1
"""


def train(d, *extra, env=None, timeout=300):
    (d / "league.toml").write_text(TINY)
    args = [sys.executable, "-m", "league", "train", "--config", str(d / "league.toml"), "--db", str(d / "league.db"),
            "--checkpoints", str(d / "ck"), *extra]
    return subprocess.run(args, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout)


def league_state(d):
    """Every generation's sha256, every stored match result, the ratings; and the database's integrity."""
    con = sqlite3.connect(d / "league.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        generations = con.execute("SELECT t.name, g.number, g.sha256 FROM generations g JOIN teams t "
                                  "ON t.id = g.team_id ORDER BY t.name, g.number").fetchall()
        results = con.execute("SELECT m.id, pa.name, pb.name, r.seed, r.return_a, r.return_b, r.outcome FROM results r "
                              "JOIN matches m ON m.id = r.match_id JOIN players pa ON pa.id = m.player_a "
                              "JOIN players pb ON pb.id = m.player_b ORDER BY m.id, r.seed").fetchall()
    finally:
        con.close()
    store = Store.open(str(d / "league.db"), create=False)
    try:
        ratings = [(r.player, round(r.elo, 9)) for r in fit_ratings(store.rated_results(store.league("default")["id"]))]
    finally:
        store.close()
    return generations, results, ratings


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    d = tmp_path_factory.mktemp("serial")
    result = train(d)
    assert result.returncode == 0, result.stderr
    return league_state(d)


def test_two_workers_give_the_serial_league_even_when_a_worker_is_killed(tmp_path, serial):
    """A worker SIGKILLed in the middle of training a generation: Ray reruns the task, and the league comes
    out identical to the serial run: same checkpoint hashes, same results, same ratings, nothing twice."""
    marker = tmp_path / "killed"
    result = train(tmp_path, "--workers", "2", env={"LEAGUE_CRASH_AT": "worker-train:2",
                                                    "LEAGUE_CRASH_ONCE": str(marker)})
    assert result.returncode == 0, result.stderr
    assert marker.exists()  # a worker really died mid-generation
    assert "Ray: 2 CPU(s)" in result.stdout
    generations, results, ratings = league_state(tmp_path)
    assert [(t, n) for t, n, _ in generations] == [("alpha", n) for n in range(3)] + [("beta", n) for n in range(3)]
    assert (generations, results, ratings) == serial
    assert len(results) > 0 and len(ratings) >= 6


def test_head_killed_after_saving_resumes_to_the_serial_league(tmp_path, serial):
    """The head dies (SIGKILL) between writing a checkpoint and committing its row; the rerun finishes the
    league with the same content as the serial run, and no file is left half-written."""
    killed = train(tmp_path, "--workers", "2", env={"LEAGUE_CRASH_AT": "after-save:3"})
    assert killed.returncode == -signal.SIGKILL
    generations, _, _ = league_state(tmp_path)
    assert len(generations) == 2  # both g0 rows; the third save never got its row
    resumed = train(tmp_path, "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert league_state(tmp_path) == serial
    assert not list((tmp_path / "ck").rglob("*.tmp"))


def test_a_worker_that_keeps_dying_is_one_error_line(tmp_path):
    """Every attempt at a generation is killed: after Ray's retries the head reports it in one line, keeps
    what was recorded (the g0s) and can be rerun."""
    result = train(tmp_path, "--workers", "2", env={"LEAGUE_CRASH_AT": "worker-train"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert [x for x in result.stderr.splitlines() if x.startswith("Error: Ray could not finish a job")] != []
    generations, _, _ = league_state(tmp_path)
    assert [(t, n) for t, n, _ in generations] == [("alpha", 0), ("beta", 0)]


def test_ctrl_c_stops_the_workers_cleanly(tmp_path):
    (tmp_path / "league.toml").write_text(TINY.replace("steps_per_generation = 6000", "steps_per_generation = 10000000"))
    args = [sys.executable, "-m", "league", "train", "--config", str(tmp_path / "league.toml"),
            "--db", str(tmp_path / "league.db"), "--checkpoints", str(tmp_path / "ck"), "--workers", "2"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # printed once Ray is up and the work is handed out
    assert line.startswith("Ray: 2 CPU(s)"), line + proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert [x for x in err.splitlines() if x.startswith("Interrupted")] != []


def test_without_ray_the_option_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    with pytest.raises(ConfigError, match="pip install"):
        make_workers(2)
    result = CliRunner().invoke(cli, ["train", "--workers", "2", "--db", str(tmp_path / "x.db"),
                                      "--checkpoints", str(tmp_path / "ck")])
    assert result.exit_code == 1
    one_error_line(result, RAY_HINT)
    assert not (tmp_path / "x.db").exists()  # refused before anything was written


def test_bad_worker_options_are_one_line(tmp_path):
    runner = CliRunner()
    base = ["train", "--db", str(tmp_path / "x.db"), "--checkpoints", str(tmp_path / "ck")]
    for extra in (["--workers", "0"], ["--workers", "2", "--ray", "auto"]):
        result = runner.invoke(cli, base + extra)
        assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(cli, base + ["--ray", "127.0.0.1:1"])  # nothing listens there: refused at once
    one_error_line(result, "127.0.0.1:1")
    assert not (tmp_path / "x.db").exists()
