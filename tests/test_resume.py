"""kill -9 at any named point of `league train`, then rerun: the same league as an uninterrupted run (every
generation's sha256, every match with its players, seeds and results, each scheduled match exactly once);
an extended league is the league run at once; writers started together on a new database take turns."""

import signal
import sqlite3
import sys
import time
from contextlib import closing

import pytest

from league_process import LeagueProcess, query, run_league, train_command
from league.checkpoints import sha256_file

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
    return train_command(d, *extra)


def train(d, crash_at=None, generations=2, timeout=300):
    return run_league(train_args(d, generations), crash_at=crash_at, timeout=timeout)


def league_state(d, complete=True, temporaries=0):
    """Generations (team, number, sha256) and matches (players, kind, per-seed seed/returns/outcome), both in
    the order they were recorded; after checking that the database is whole, every checkpoint matches its
    sha256, `temporaries` temporary files are left (a kill inside a checkpoint's write leaves one) and
    (`complete`) every scheduled match was played exactly once."""
    with closing(sqlite3.connect(d / "league.db")) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute("SELECT t.name, g.number, g.sha256, g.checkpoint FROM generations g "
                           "JOIN teams t ON t.id = g.team_id ORDER BY g.id").fetchall()
        matches = con.execute("SELECT m.id, pa.name, pb.name, m.kind FROM matches m JOIN players pa ON "
                              "pa.id = m.player_a JOIN players pb ON pb.id = m.player_b ORDER BY m.id").fetchall()
        results = {match_id: con.execute("SELECT seed, return_a, return_b, outcome FROM results WHERE match_id = ? "
                                         "ORDER BY seed", [match_id]).fetchall() for match_id, *_ in matches}
        scheduled = con.execute("SELECT match_id FROM scheduled_matches ORDER BY generation_id, position").fetchall()
    for *_, digest, path in rows:
        assert sha256_file(path) == digest
    assert len(list((d / "ck").rglob("*.tmp"))) == temporaries
    if complete:  # each scheduled match once, nothing else
        assert sorted(m for (m,) in scheduled) == [m[0] for m in matches]
    generations = [(team, number, digest) for team, number, digest, _ in rows]
    return generations, [(a, b, kind, results[match_id]) for match_id, a, b, kind in matches]


def unrecorded_checkpoints(d):
    """Checkpoint files (not temporaries) in `d/ck` that no generation row points at."""
    recorded = {path for (path,) in query(d / "league.db", "SELECT checkpoint FROM generations")}
    return sorted(str(p) for p in (d / "ck").rglob("*.pt") if str(p.resolve()) not in recorded)


def training_iterations(d, team, number):
    return query(d / "league.db", "SELECT COUNT(*) FROM training_metrics m JOIN generations g ON "
                 "g.id = m.generation_id JOIN teams t ON t.id = g.team_id WHERE t.name = ? AND g.number = ?",
                 (team, number))[0][0]


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
# stop between two matches is in beta's g0); a generation trains two iterations. With each point: how many
# generations the killed run had recorded.
ITERATIONS = 2
CRASH_POINTS = [
    ("after-save", 0),          # alpha/g0's checkpoint written, its row not yet committed
    ("checkpoint-write:3", 2),  # inside the write of alpha/g1's checkpoint: a whole temporary file, not renamed
    ("before-save:2", 3),       # beta/g1 trained, nothing written yet; alpha/g1 is recorded
    ("after-save:4", 3),        # beta/g1 on disk, no row
    ("between-matches", 2),     # beta/g0 recorded with one of its scheduled matches stored
    ("between-matches:5", 4),   # in beta/g1's matches (passes: 1 in beta/g0's, 2 in alpha/g1's, 3 in beta/g1's)
    ("worker-train:3", 3),      # in the middle of training beta/g1
]


@pytest.mark.slow
@pytest.mark.parametrize("point, recorded", CRASH_POINTS, ids=[point for point, _ in CRASH_POINTS])
def test_kill_9_then_rerun_gives_the_uninterrupted_league(tmp_path, reference, point, recorded):
    killed = train(tmp_path, crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    # what the killed run left is whole, and is the uninterrupted league's up to the point it died at
    generations, matches = league_state(tmp_path, complete=False,
                                        temporaries=1 if point.startswith("checkpoint-write") else 0)
    assert generations == reference[0][:recorded]
    assert matches == reference[1][:len(matches)]
    assert len(unrecorded_checkpoints(tmp_path)) == (1 if point.startswith("after-save") else 0)
    resumed = train(tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    generations, matches = league_state(tmp_path)
    assert generations == reference[0]
    assert len(matches) == len(reference[1])
    assert matches == reference[1]


@pytest.mark.slow
def test_kills_in_a_row_then_rerun_give_the_uninterrupted_league_and_a_rerun_trains_nothing(tmp_path, reference):
    """Killed three times, each rerun dying further on: after each kill what is recorded is whole and nothing
    of the generation in progress is; the next run finishes the league, and one more trains nothing."""
    killed = train(tmp_path, crash_at=f"worker-train:{ITERATIONS + 1}")  # the 1st iteration of beta/g1
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert league_state(tmp_path, complete=False)[0] == reference[0][:3]  # alpha/g0, beta/g0, alpha/g1
    assert training_iterations(tmp_path, "alpha", 1) == ITERATIONS  # so the kill came in beta/g1's training
    assert "saved default/alpha/g1" in killed.stdout and "matches" in killed.stdout  # alpha/g1's round ended
    assert not list((tmp_path / "ck" / "default" / "beta").glob("g1*"))  # nothing of beta/g1 was saved
    killed = train(tmp_path, crash_at="after-save")  # the rerun's first save: beta/g1's checkpoint, no row
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert league_state(tmp_path, complete=False)[0] == reference[0][:3]
    assert len(unrecorded_checkpoints(tmp_path)) == 1
    killed = train(tmp_path, crash_at="before-save")  # beta/g1 trained once more, nothing written
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert league_state(tmp_path, complete=False)[0] == reference[0][:3]
    finished = train(tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert league_state(tmp_path) == reference
    again = train(tmp_path)
    assert again.returncode == 0 and "0 new generation" in again.stdout, again.stdout + again.stderr
    assert league_state(tmp_path) == reference


@pytest.mark.slow
def test_an_extended_league_is_the_league_run_at_once(tmp_path, reference):
    """`--generations 1`, then 2: the second round's jobs and matches see what an uninterrupted run saw."""
    assert train(tmp_path, generations=1).returncode == 0
    result = train(tmp_path, generations=2)
    assert result.returncode == 0, result.stderr
    assert league_state(tmp_path) == reference


@pytest.mark.slow
def test_two_trainers_started_together_on_a_new_database_take_turns(tmp_path, reference):
    """Both wait their turn for the database (no 'database is locked'), neither leaves a half-made league,
    and together they record each generation and each scheduled match once: the uninterrupted league."""
    args = train_args(tmp_path)
    trainers = [LeagueProcess(args) for _ in range(2)]
    try:
        for trainer in trainers:
            code, _, err = trainer.finish(timeout=600)
            assert code == 0, err
    finally:
        for trainer in trainers:
            trainer.stop()
    # Two writers interleave, so the rows may be recorded in another order; each is the uninterrupted league's.
    generations, matches = league_state(tmp_path)
    assert sorted(generations) == sorted(reference[0]) and sorted(matches) == sorted(reference[1])


# Imports done, each says so and waits for the instant it is sent, then runs `league ...`.
RACE = """
import sys, time
from league.cli import cli
print("ready", flush=True)
start = float(sys.stdin.readline())
time.sleep(max(0.0, start - time.time()))
cli(sys.argv[1:])
"""


def test_writers_opening_a_new_database_at_the_same_instant_all_succeed(tmp_path):
    """Three processes, imports done, open the same new database at the same instant (migrations, league,
    teams, g0s and their matches): each waits its turn, and the league is made once, whole."""
    (tmp_path / "league.toml").write_text(TINY.format(generations=0))
    d = tmp_path / "race"
    d.mkdir()
    writers = [LeagueProcess([sys.executable, "-c", RACE, "train", "--config", str(tmp_path / "league.toml"),
                              "--db", str(d / "league.db"), "--checkpoints", str(d / "ck")], stdin=True)
               for _ in range(3)]
    try:
        for writer in writers:
            writer.wait_for_line("ready", timeout=120)
        start = time.time() + 0.5
        for writer in writers:
            writer.send(repr(start))
        for writer in writers:
            code, _, err = writer.finish(timeout=300)
            assert code == 0, err
            assert "locked" not in err and "Traceback" not in err
    finally:
        for writer in writers:
            writer.stop()
    with closing(sqlite3.connect(d / "league.db")) as con:
        assert con.execute("SELECT name FROM leagues").fetchall() == [("default",)]
        assert con.execute("SELECT name FROM teams ORDER BY name").fetchall() == [("alpha",), ("beta",)]
        assert con.execute("SELECT count(*) FROM generations").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == 4
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
