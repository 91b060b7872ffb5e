"""kill -9 at any named point of `league train`, then rerun: the same league as an uninterrupted run (every
generation's sha256, every match with its players, seeds and results, each scheduled match exactly once);
an extended league is the league run at once; writers started together on a new database take turns."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from league.checkpoints import sha256_file

ROOT = Path(__file__).resolve().parents[1]

# threads = 1: the same floating-point sums in every process, so equal generations are byte-identical.
# partner_share is left at its default (0.5): from the second round on, a generation trains with a pool of
# league generations, the part of a job that depends on what the league had recorded when it was made.
TINY = """
[league]
teams = 2
generations = {generations}
steps_per_generation = 1600
match_seeds = 2
opponents = ["parent", "other_teams", "top", "least_played", "history:1", "random"]

[grpo]
groups = 8
group_size = 4
hidden = 16
epochs = 1
threads = 1
"""


def train_args(d, generations=2, extra=()):
    (d / "league.toml").write_text(TINY.format(generations=generations))
    return [sys.executable, "-m", "league", "train", "--config", str(d / "league.toml"), "--db", str(d / "league.db"),
            "--checkpoints", str(d / "ck"), *extra]


def train(d, crash_at=None, generations=2, timeout=300):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAGUE_CRASH")}
    if crash_at:
        env["LEAGUE_CRASH_AT"] = crash_at
    return subprocess.run(train_args(d, generations), env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def league_state(d, complete=True):
    """Generations (team, number, sha256) and matches (players, kind, per-seed seed/returns/outcome), both in
    the order they were recorded; after checking that the database is whole, every checkpoint matches its
    sha256, no temporary file is left and (`complete`) every scheduled match was played exactly once."""
    con = sqlite3.connect(d / "league.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute("SELECT t.name, g.number, g.sha256, g.checkpoint FROM generations g "
                           "JOIN teams t ON t.id = g.team_id ORDER BY g.id").fetchall()
        matches = con.execute("SELECT m.id, pa.name, pb.name, m.kind FROM matches m JOIN players pa ON "
                              "pa.id = m.player_a JOIN players pb ON pb.id = m.player_b ORDER BY m.id").fetchall()
        results = {match_id: con.execute("SELECT seed, return_a, return_b, outcome FROM results WHERE match_id = ? "
                                         "ORDER BY seed", [match_id]).fetchall() for match_id, *_ in matches}
        scheduled = con.execute("SELECT match_id FROM scheduled_matches ORDER BY generation_id, position").fetchall()
    finally:
        con.close()
    for *_, digest, path in rows:
        assert sha256_file(path) == digest
    assert not list((d / "ck").rglob("*.tmp"))
    if complete:  # each scheduled match once, nothing else
        assert sorted(m for (m,) in scheduled) == [m[0] for m in matches]
    generations = [(team, number, digest) for team, number, digest, _ in rows]
    return generations, [(a, b, kind, results[match_id]) for match_id, a, b, kind in matches]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run."""
    d = tmp_path_factory.mktemp("reference")
    result = train(d)
    assert result.returncode == 0, result.stderr
    state = league_state(d)
    assert [(t, n) for t, n, _ in state[0]] == [("alpha", 0), ("beta", 0), ("alpha", 1), ("beta", 1), ("alpha", 2),
                                                ("beta", 2)]
    assert len(state[1]) >= 15
    return state


# LEAGUE_CRASH_AT=<point>:<k> dies the k-th time the run passes the point. Checkpoints are written g0 alpha,
# g0 beta, g1 alpha, ...; matches are stored after each generation (alpha's g0 plays one match, so the first
# stop between two matches is in beta's g0); a generation trains two iterations.
CRASH_POINTS = [
    "after-save",          # alpha/g0's checkpoint written, its row not yet committed
    "checkpoint-write:3",  # inside the write of alpha/g1's checkpoint: a whole temporary file, not renamed
    "before-save:2",       # beta/g1 trained, nothing written yet; alpha/g1 is recorded
    "after-save:4",        # beta/g1 on disk, no row
    "between-matches",     # beta/g0 recorded with one of its scheduled matches stored
    "between-matches:5",   # in alpha/g1's matches
    "worker-train:3",      # in the middle of training beta/g1
]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_9_then_rerun_gives_the_uninterrupted_league(tmp_path, reference, point):
    killed = train(tmp_path, crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = train(tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    generations, matches = league_state(tmp_path)
    assert generations == reference[0]
    assert len(matches) == len(reference[1])
    assert matches == reference[1]


def test_an_extended_league_is_the_league_run_at_once(tmp_path, reference):
    """`--generations 1`, then 2: the second round's jobs and matches see what an uninterrupted run saw."""
    assert train(tmp_path, generations=1).returncode == 0
    result = train(tmp_path, generations=2)
    assert result.returncode == 0, result.stderr
    assert league_state(tmp_path) == reference


def test_two_trainers_started_together_on_a_new_database_take_turns(tmp_path, reference):
    """Both wait their turn for the database (no 'database is locked'), neither leaves a half-made league,
    and together they record each generation and each scheduled match once: the uninterrupted league."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAGUE_CRASH")}
    args = train_args(tmp_path)
    procs = [subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    # Two writers interleave, so the rows may be recorded in another order; each is the uninterrupted league's.
    generations, matches = league_state(tmp_path)
    assert sorted(generations) == sorted(reference[0]) and sorted(matches) == sorted(reference[1])


RACE = """
import sys, time
from league.cli import cli
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
cli(sys.argv[2:])
"""


def test_writers_opening_a_new_database_at_the_same_instant_all_succeed(tmp_path):
    """Three processes, imports done, open the same new database at the same instant (migrations, league,
    teams, g0s and their matches): each waits its turn, and the league is made once, whole."""
    (tmp_path / "league.toml").write_text(TINY.format(generations=0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAGUE_CRASH")}
    for attempt in range(1):
        d = tmp_path / f"try{attempt}"
        d.mkdir()
        start = time.time() + 8
        procs = [subprocess.Popen([sys.executable, "-c", RACE, str(start), "train", "--config",
                                   str(tmp_path / "league.toml"), "--db", str(d / "league.db"), "--checkpoints",
                                   str(d / "ck")], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(3)]
        outputs = [p.communicate(timeout=300) for p in procs]
        for proc, (_, err) in zip(procs, outputs):
            assert proc.returncode == 0, err
            assert "locked" not in err and "Traceback" not in err
        con = sqlite3.connect(d / "league.db")
        try:
            assert con.execute("SELECT name FROM leagues").fetchall() == [("default",)]
            assert con.execute("SELECT name FROM teams ORDER BY name").fetchall() == [("alpha",), ("beta",)]
            assert con.execute("SELECT count(*) FROM generations").fetchone()[0] == 2
            assert con.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == 4
        finally:
            con.close()
        generations, matches = league_state(d)
        assert [(t, n) for t, n, _ in generations] == [("alpha", 0), ("beta", 0)] and len(matches) >= 2


def test_a_full_disk_after_the_first_match_then_rerun_plays_the_rest(tmp_path, monkeypatch):
    """The disk fills up while beta/g0's second scheduled match is stored: one StoreError; the rerun plays
    exactly the scheduled matches still missing, on their seeds, and the league equals an uninterrupted one."""
    from league.config import GRPOConfig, LeagueConfig
    from league.manager import LeagueManager
    from league.store import Store, StoreError

    config = LeagueConfig(teams=2, generations=0, match_seeds=2, grpo=GRPOConfig(groups=8, group_size=4, hidden=16,
                                                                                threads=1),
                          opponents=["parent", "other_teams", "top", "least_played", "history:1", "random"])

    def run(d):
        store = Store.open(d / "league.db", create=True)
        try:
            LeagueManager(store, config, d / "ck").run()
        finally:
            store.close()

    (tmp_path / "ref").mkdir()
    run(tmp_path / "ref")
    reference = league_state(tmp_path / "ref")
    assert len(reference[1]) >= 3

    d = tmp_path / "full"
    d.mkdir()
    add_match, calls = Store.add_match, []

    def fill_the_disk_at_the_second(self, league_id, kind, player_a, *args, **kwargs):
        calls.append(player_a)
        if calls.count(player_a) == 2:  # a generation's second match: what the store says on SQLITE_FULL
            raise StoreError(f"cannot write to {self.path}: database or disk is full")
        return add_match(self, league_id, kind, player_a, *args, **kwargs)

    monkeypatch.setattr(Store, "add_match", fill_the_disk_at_the_second)
    with pytest.raises(StoreError, match="full"):
        run(d)
    monkeypatch.setattr(Store, "add_match", add_match)
    assert 0 < len(league_state(d, complete=False)[1]) < len(reference[1])
    run(d)
    assert league_state(d) == reference
