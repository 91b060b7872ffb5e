"""Fault injection for the crash tests: named points where a test can kill the process exactly as a power cut
or the OOM killer would. Unset (as always outside tests) every point does nothing.

The points of `league train`, in the order a generation passes them:
- `worker-train`: after each training iteration (in a Ray worker too: `LEAGUE_CRASH_ONCE` lets a retry live);
- `before-save`: a generation trained, nothing of it written;
- `checkpoint-write`: its checkpoint whole and fsynced in a temporary file, not yet renamed (any checkpoint);
- `after-save`: its checkpoint in place, its row (and scheduled matches) not committed;
- `between-matches`: some of a generation's scheduled matches stored, the next one not.
`tests/test_resume.py` kills a league at each and checks that the rerun makes the uninterrupted league."""

from __future__ import annotations

import os
import signal

_crash_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Fault injection for the crash tests: `LEAGUE_CRASH_AT=<name>[:k]` kills this process with SIGKILL the
    k-th time (default 1st) it passes here, exactly as a power cut or the OOM killer would. With
    `LEAGUE_CRASH_ONCE=<file>` only the first process to get there dies (it creates the file), so a retried
    Ray task survives. Unset, as always outside tests, it does nothing."""
    target, _, nth = os.environ.get("LEAGUE_CRASH_AT", "").partition(":")
    if target != name:
        return
    _crash_counts[name] = _crash_counts.get(name, 0) + 1
    if _crash_counts[name] != int(nth or 1):
        return
    once = os.environ.get("LEAGUE_CRASH_ONCE")
    if once:
        try:
            os.close(os.open(once, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
    os.kill(os.getpid(), signal.SIGKILL)
