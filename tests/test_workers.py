"""A league on Ray workers: the same generations and ratings as the serial run, survives a killed worker or
head, stops cleanly on Ctrl-C, and says in one line how to get Ray when it is missing. A local Ray listens on
loopback only and keeps its files in a private folder that goes away with it."""

import ipaddress
import os
import signal
import socket
import sqlite3
import stat
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import one_error_line
from league_process import LeagueProcess, run_league, train_command
from league.cli import cli
from league.config import ConfigError
from league.ratings import fit_ratings
from league.store import Store
from league.workers import LOOPBACK_ENV, RAY_HINT, make_workers

pytest.importorskip("ray")
try:
    import psutil  # the `dev` extra; Ray also ships a copy, importable once ray is imported
except ImportError:
    psutil = None

# `threads` left at 0 (follow the machine): the serial run trains on one or two threads, a worker on one, and
# one and two threads give the same floats, so equal checkpoints are byte-identical.
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
"""


def train(d, *extra, env=None, timeout=300):
    (d / "league.toml").write_text(TINY)
    return run_league(train_command(d, *extra), env=env, timeout=timeout)


def endless_league(d):
    """`league train --workers 2` of a league whose generations take far longer than any test."""
    (d / "league.toml").write_text(TINY.replace("steps_per_generation = 6000", "steps_per_generation = 10000000"))
    return LeagueProcess(train_command(d, "--workers", "2"))


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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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
    with endless_league(tmp_path) as league:
        line = league.next_line(timeout=120)  # printed once Ray is up and the work is handed out
        assert line.startswith("Ray: 2 CPU(s)"), league.output()
        league.interrupt()
        code, _, err = league.finish(timeout=120)
    assert code == 130
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


# ---------------------------------------------------------------- a local Ray is private

def is_loopback(ip):
    address = ipaddress.ip_address(ip.split("%")[0])
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback  # ::ffff:127.0.0.1: a dual-stack socket


def ray_argument(processes, *names):
    """The value of the first `--name=value` argument among the processes' command lines."""
    for p in processes:
        try:
            for arg in p.cmdline():
                for name in names:
                    if arg.startswith(f"--{name}="):
                        return arg.partition("=")[2]
        except psutil.Error:
            pass
    return None


def alive(p):
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def processes_of(head, folder):
    """The head, everything it started, and every process that names `folder` (Ray's session files)."""
    found = {head.pid: head}
    try:
        found.update({p.pid: p for p in head.children(recursive=True)})
    except psutil.Error:
        pass
    if folder:
        for p in psutil.process_iter(["cmdline"]):
            if any(folder in arg for arg in p.info["cmdline"] or ()):
                found[p.pid] = p
    return list(found.values())


def listening(processes):
    """(pid, name, ip, port) of every TCP socket listening, and every UDP socket bound, in these processes."""
    out = set()
    for p in processes:
        try:
            name = p.name()
            for c in p.net_connections(kind="inet"):
                if c.status == psutil.CONN_LISTEN or (c.type == socket.SOCK_DGRAM and c.laddr and not c.raddr):
                    out.add((p.pid, name, c.laddr.ip, c.laddr.port))
        except psutil.Error:  # a worker that ended meanwhile
            pass
    return out


@pytest.mark.slow
def test_a_local_ray_listens_on_loopback_only_and_its_files_are_private_and_removed(tmp_path):
    """`league train --workers 2`, while it trains: every listening socket of the head, the Ray servers it
    started (GCS, raylet, agents) and the workers is on 127.0.0.1 (or ::1); Ray's session folder lies in a
    folder of mode 0700 of this user; after Ctrl-C no process of it is left and the folder is gone."""
    if psutil is None:
        pytest.skip("needs psutil (the dev extra)")
    league = endless_league(tmp_path)
    try:
        line = league.next_line(timeout=120)  # Ray is up and the generations are handed out
        assert line.startswith("Ray: 2 CPU(s)"), league.output()
        head = psutil.Process(league.pid)
        temp_dir = ray_argument(head.children(recursive=True), "temp-dir", "temp_dir")
        session_dir = ray_argument(head.children(recursive=True), "session-dir", "session_dir")
        assert temp_dir and session_dir, [p.cmdline() for p in head.children(recursive=True)]
        private = Path(temp_dir).parent
        sockets = set()
        deadline = time.monotonic() + 6  # agents and workers come up over a few seconds: look several times
        while time.monotonic() < deadline:
            sockets |= listening(processes_of(head, str(private)))
            time.sleep(0.5)
        # the head's own server, the GCS, the raylet, a worker...: the check is not empty
        assert len(sockets) >= 4 and league.pid in {pid for pid, *_ in sockets}, sockets
        assert [s for s in sockets if not is_loopback(s[2])] == [], sorted(sockets)

        info = private.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid(), (str(private), oct(info.st_mode))
        assert Path(session_dir).resolve().is_relative_to(private.resolve())
    finally:
        league.interrupt()
        code, _, err = league.finish(timeout=120)
    assert code == 130, err
    deadline = time.monotonic() + 15
    while (left := [p for p in processes_of(head, str(private)) if p.pid != league.pid and alive(p)]) \
            and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == [], [(p.pid, p.cmdline()[:2]) for p in left]
    assert not private.exists(), sorted(str(x) for x in private.rglob("*"))[:20]


class FakeRay:
    """Just enough of `ray` to see how it is started: the arguments of `init`, and the loopback switch then."""

    def __init__(self, node_ip="127.0.0.1"):
        self.inits, self.shutdowns = [], 0
        self.util = type("util", (), {"get_node_ip_address": staticmethod(lambda: node_ip)})

    def init(self, **kwargs):
        folder = kwargs.get("_temp_dir")
        mode = stat.S_IMODE(os.stat(os.path.dirname(folder)).st_mode) if folder else None
        self.inits.append((kwargs, os.environ.get(LOOPBACK_ENV), mode))

    def cluster_resources(self):
        return {"CPU": 2}

    def remote(self, **options):
        return lambda f: f

    def shutdown(self):
        self.shutdowns += 1


def test_a_local_ray_is_started_on_loopback_and_a_cluster_as_it_is(monkeypatch):
    """A local Ray starts with Ray's loopback switch on and a private folder (the switch is put back after);
    a cluster address gets neither; a local Ray that still took a network address is refused in one line,
    stopped and its folder removed."""
    monkeypatch.delenv(LOOPBACK_ENV, raising=False)
    fake = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    pool = make_workers(2)
    (kwargs, switch, mode), = fake.inits
    assert switch == "0" and mode == 0o700 and kwargs["_temp_dir"].startswith(pool.temp_dir)
    assert LOOPBACK_ENV not in os.environ
    folder = pool.temp_dir
    pool.close()
    assert fake.shutdowns == 1 and not os.path.exists(folder)

    fake = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    pool = make_workers(2, address="auto")
    (kwargs, switch, _), = fake.inits
    assert kwargs["address"] == "auto" and "_temp_dir" not in kwargs and "_node_ip_address" not in kwargs
    assert switch is None and pool.temp_dir is None
    pool.close()

    fake = FakeRay(node_ip="192.0.2.7")
    monkeypatch.setitem(sys.modules, "ray", fake)
    with pytest.raises(ConfigError, match="192.0.2.7") as refused:
        make_workers(2)
    folder = os.path.dirname(fake.inits[0][0]["_temp_dir"])
    assert fake.shutdowns == 1 and not os.path.exists(folder) and "\n" not in str(refused.value)
