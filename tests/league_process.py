"""`league` in a subprocess, for the tests that kill it, interrupt it or race it: start it, wait on a line it
prints (or on a condition) with a deadline, send Ctrl-C, read its output and its database. Every wait has a
deadline and fails with the process's output when it passes, or as soon as the process ends without the line
or the condition: a test waits for what it needs, never a fixed time, and never hangs."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]


def league_env(crash_at: str | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without any `LEAGUE_CRASH*` setting, then `LEAGUE_CRASH_AT=crash_at` (see
    league/faults.py) and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAGUE_CRASH")}
    if crash_at:
        env["LEAGUE_CRASH_AT"] = crash_at
    env.update(extra)
    return env


def train_command(d: Path, *extra: str) -> list[str]:
    """`league train` of the league in folder `d`: `d/league.toml`, `d/league.db`, checkpoints in `d/ck`."""
    return [sys.executable, "-m", "league", "train", "--config", str(d / "league.toml"), "--db", str(d / "league.db"),
            "--checkpoints", str(d / "ck"), *extra]


def run_league(args: list[str], crash_at: str | None = None, env: dict[str, str] | None = None,
               timeout: float = 300, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Runs a command to its end (killed, and TimeoutExpired, past `timeout`), its output captured."""
    return subprocess.run(args, env=league_env(crash_at, **(env or {})), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def query(db: Path | str, sql: str, params: tuple | list = ()) -> list[tuple]:
    """The rows of one query, on a connection closed after it."""
    with closing(sqlite3.connect(db)) as con:
        return con.execute(sql, params).fetchall()


def rows_so_far(db: Path | str, sql: str, params: tuple | list = ()) -> list[tuple]:
    """`query` on a database another process is making: no rows while the file or the table is not there yet
    (never creates the file)."""
    if not Path(db).exists():
        return []
    try:
        return query(db, sql, params)
    except sqlite3.OperationalError:  # no such table yet (migrations running), or the file is not a database yet
        return []


class LeagueProcess:
    """A running command, its stdout and stderr read on threads as it prints them (neither pipe ever fills up),
    stdout line by line for `wait_for_line`; its stdin is empty, or with `stdin=True` takes `send`. Use it as a
    context manager: whatever is still running at the end of the block is stopped (`stop`)."""

    def __init__(self, args: list[str], crash_at: str | None = None, env: dict[str, str] | None = None,
                 cwd: Path = ROOT, new_session: bool = False, merge_stderr: bool = False, stdin: bool = False):
        self.args, self.new_session = args, new_session
        self.proc = subprocess.Popen(args, env=league_env(crash_at, **(env or {})), cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE, text=True,
                                     stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     start_new_session=new_session)
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out, True), daemon=True)]
        if not merge_stderr:
            self._readers.append(threading.Thread(target=self._read, args=(self.proc.stderr, self.err, False),
                                                  daemon=True))
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, into: list[str], lines: bool) -> None:
        for line in iter(stream.readline, ""):
            into.append(line)
            if lines:
                self._lines.put(line)
        stream.close()
        if lines:
            self._lines.put(None)  # the end of stdout

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def output(self, tail: int = 4000) -> str:
        """The end of what it printed so far, for a failure message."""
        return (f"$ {' '.join(self.args)}\n--- stdout\n{''.join(self.out)[-tail:]}\n"
                f"--- stderr\n{''.join(self.err)[-tail:]}")

    def wait_for_line(self, wanted: str | Callable[[str], bool], timeout: float = 120) -> str:
        """The next line of stdout (after those an earlier wait took) that starts with `wanted`, or for which
        `wanted(line)` is true; fails when `timeout` seconds pass or stdout ends first."""
        match = wanted if callable(wanted) else (lambda line: line.startswith(wanted))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line {wanted!r} within {timeout:g}s\n{self.output()}")
            try:
                line = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                self._lines.put(None)  # a later wait ends here too
                raise AssertionError(f"exited ({self.proc.wait()}) without printing a line {wanted!r}\n"
                                     f"{self.output()}")
            if match(line):
                return line

    def next_line(self, timeout: float = 120) -> str:
        """The next line of stdout; fails when `timeout` seconds pass or stdout ends first."""
        return self.wait_for_line(lambda line: True, timeout)

    def wait_until(self, condition: Callable[[], Any], timeout: float = 120, what: str = "the condition") -> Any:
        """Polls `condition()` every 50 ms until it is true and returns its value; fails when `timeout` seconds
        pass or the process ends first."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if not self.running():
                raise AssertionError(f"exited ({self.proc.returncode}) before {what}\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not {what} within {timeout:g}s\n{self.output()}")
            time.sleep(0.05)

    def send(self, line: str) -> None:
        """Writes a line to its stdin (`stdin=True`)."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the process, or with `new_session` to its whole process group (as a terminal does)."""
        if self.new_session:
            os.killpg(self.proc.pid, signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        """Waits for its end: (return code, stdout, stderr); killed, and a failure, past `timeout`."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"still running {timeout:g}s later: stopped\n{self.output()}") from None
        for reader in self._readers:
            reader.join(timeout=10)
        return code, "".join(self.out), "".join(self.err)

    def kill(self) -> None:
        """SIGKILL to the process if it still runs (with `new_session`: to whatever of its group is left), and
        wait for it."""
        try:
            if self.new_session:  # the group may outlive its leader
                os.killpg(self.proc.pid, signal.SIGKILL)
            elif self.running():
                self.proc.kill()
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def stop(self, grace: float = 15) -> None:
        """Ctrl-C if it still runs, so it can stop what it started (a local Ray); SIGKILL (`kill`) if that takes
        longer than `grace` seconds, or to whatever is left of its group."""
        if self.running():
            try:
                self.interrupt()
                self.proc.wait(timeout=grace)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def __enter__(self) -> LeagueProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        for reader in self._readers:
            reader.join(timeout=10)
