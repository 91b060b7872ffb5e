"""How many torch threads training uses: two while the machine has a second core to spare, one while other
programs keep the cores busy.

Why: torch's CPU threads meet at a barrier after every operation. When another program holds one of the cores,
the thread that shares that core runs in the scheduler's slices and every barrier waits for it: training with
two threads fell to a third of its idle speed beside one CPU-bound process, while one thread keeps nearly all of
its own. So with `threads = 0` (the default) the thread count follows the machine, update by update.

Why this keeps results reproducible: MKL's strict conditional-numerical-reproducibility mode (`MKL_CBWR =
AUTO,STRICT`, set when `league` is imported) makes matrix products give the same bits on one thread and on two,
and torch's own sums on these sizes agree between one and two threads (tests/test_busy_machine.py trains each way
and compares the weights). More than two threads would round differently, so the adaptive count stays within
{1, 2}; a fixed `threads = N` is used as it is. Other programs' CPU use is read from psutil (system-wide busy
time less this process's own), so it works wherever psutil does.
"""

from __future__ import annotations

import os
import time

import psutil
import torch

from league import MKL_STRICT  # the MKL_CBWR value league sets unless the user set another

MOST = 2  # thread counts whose sums agree bit for bit (see above)


def adaptive_allowed(device: torch.device) -> bool:
    """Whether the thread count may change during a run without changing its floats: CPU, MKL, strict mode."""
    return device.type == "cpu" and torch.backends.mkl.is_available() and os.environ.get("MKL_CBWR") == MKL_STRICT


class CoreShare:
    """Measures, between two calls, how many cores other programs used, and says how many threads to use next.

    `pick()` is called once per update: other programs' use over the last update decides the next one's count.
    """

    def __init__(self, most: int = MOST) -> None:
        self.most = max(1, min(most, psutil.cpu_count() or 1))
        self.process = psutil.Process()
        self.last = self._read()
        self.others = 0.0  # cores other programs used over the last interval

    def _read(self) -> tuple[float, float, float]:
        """(wall seconds, machine busy CPU seconds, this process's CPU seconds)."""
        machine = psutil.cpu_times()
        own = self.process.cpu_times()
        idle = sum(getattr(machine, name, 0.0) for name in ("idle", "iowait", "guest", "guest_nice"))  # guest: in user
        return time.monotonic(), sum(machine) - idle, own.user + own.system

    def pick(self) -> int:
        """Threads for the next update: `most` while at least that many cores are free of other programs, else
        fewer (never under one). A core counts as taken when other programs used more than a quarter of it: a
        thread that has to share its core holds up the other at every barrier."""
        now = self._read()
        wall, busy, own = (b - a for a, b in zip(self.last, now))
        self.last = now
        if wall >= 0.05:  # shorter intervals are all jitter of the clock ticks
            self.others = max(0.0, (busy - own) / wall)
        free = (psutil.cpu_count() or 1) - self.others
        return max(1, min(self.most, int(free + 0.25)))
