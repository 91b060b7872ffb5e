"""A busy machine: with `threads = 0` training follows the machine (two torch threads while a second core is free,
one while another program holds it), and that choice never changes what it trains."""

import json
import os
import time

import psutil
import pytest
import torch
from click.testing import CliRunner

import league.grpo
from league.cli import cli
from league.config import GRPOConfig, with_preset
from league.cores import CoreShare, adaptive_allowed
from league.grpo import train
from tests.conftest import weights_digest

needs_strict_mkl = pytest.mark.skipif(not adaptive_allowed(torch.device("cpu")),
                                      reason="one and two threads agree bit for bit only with MKL's strict mode")


def small(game: str, threads: int) -> GRPOConfig:
    return GRPOConfig.from_dict({**with_preset({"game": game}), "groups": 8, "group_size": 8, "seed": 1,
                                 "threads": threads})


def test_importing_league_sets_mkl_strict_mode():
    assert os.environ["MKL_CBWR"] == "AUTO,STRICT"


@needs_strict_mkl
@pytest.mark.parametrize("game", ["simple_spread", "simple_speaker_listener", "knights_archers_zombies"])
def test_one_and_two_threads_train_the_same_weights(game):
    one = weights_digest(train(small(game, 1), max_env_steps=6000).policy)
    two = weights_digest(train(small(game, 2), max_env_steps=6000).policy)
    assert one == two
    longer = weights_digest(train(small(game, 1), max_env_steps=12000).policy)
    assert one != longer  # the digest does see training


class Alternating:
    """A CoreShare stand-in for a machine whose other programs come and go: 2, 1, 2, 1, ... threads."""

    picks: list[int] = []

    def __init__(self) -> None:
        self.next = 2

    def pick(self) -> int:
        chosen, self.next = self.next, 3 - self.next
        Alternating.picks.append(chosen)
        return chosen


@needs_strict_mkl
def test_threads_that_change_between_updates_train_what_one_thread_trains(monkeypatch):
    before = torch.get_num_threads()
    fixed = weights_digest(train(small("simple_spread", 1), max_env_steps=8000).policy)
    monkeypatch.setattr(league.grpo, "CoreShare", Alternating)
    changing = train(small("simple_spread", 0), max_env_steps=8000)
    assert Alternating.picks[:4] == [2, 1, 2, 1] and len(changing.metrics) >= 4  # it did switch, update by update
    assert weights_digest(changing.policy) == fixed
    assert torch.get_num_threads() == before  # each run put back the count it found


def test_a_fixed_thread_count_is_used_as_it_is(monkeypatch):
    monkeypatch.setattr(league.grpo, "CoreShare", lambda: pytest.fail("threads = 1 must not follow the machine"))
    seen = []
    train(small("simple_spread", 1), max_env_steps=2000, on_iteration=lambda m: seen.append(torch.get_num_threads()))
    assert seen and set(seen) == {1}


def test_a_fixed_thread_run_puts_back_the_count_it_found():
    before = torch.get_num_threads()
    torch.set_num_threads(2 if before != 2 else 3)
    found = torch.get_num_threads()
    try:
        train(small("simple_spread", 1), max_env_steps=2000)  # trains on one thread
        assert torch.get_num_threads() == found
    finally:
        torch.set_num_threads(before)


def readings(*others_per_second: float, cpus: int = 2):
    """Fake (wall, machine busy, own) readings one second apart: this process uses one core, others as given."""
    wall = busy = own = 0.0
    out = [(wall, busy, own)]
    for others in others_per_second:
        wall, own = wall + 1.0, own + 1.0
        busy += 1.0 + others
        out.append((wall, busy, own))
    return out


@pytest.mark.parametrize("others, expected", [(0.0, 2), (0.2, 2), (0.3, 1), (1.0, 1), (1.9, 1), (5.0, 1)])
def test_core_share_gives_the_second_thread_only_while_its_core_is_free(monkeypatch, others, expected):
    monkeypatch.setattr("psutil.cpu_count", lambda logical=True: 2)
    values = iter(readings(others))
    monkeypatch.setattr(CoreShare, "_read", lambda self: next(values))
    share = CoreShare()
    assert share.pick() == expected
    assert share.others == pytest.approx(others)


def test_core_share_never_asks_for_more_threads_than_cores_or_than_two(monkeypatch):
    monkeypatch.setattr("psutil.cpu_count", lambda logical=True: 1)
    values = iter(readings(0.0))
    monkeypatch.setattr(CoreShare, "_read", lambda self: next(values))
    assert CoreShare().pick() == 1
    monkeypatch.setattr("psutil.cpu_count", lambda logical=True: 64)
    values = iter(readings(0.0))
    assert CoreShare().pick() == 2  # more threads than two would round differently from one


def test_core_share_reads_this_machine():
    """The readings are this machine's: this process's busy loop shows as its own CPU time, inside the machine's
    busy time, which no more than all cores can give."""
    share = CoreShare()
    before = share._read()
    x, spin_until = 0, time.process_time() + 0.3
    while time.process_time() < spin_until:  # 0.3 s of this process's own CPU
        x += 1
    wall, busy, own = (b - a for a, b in zip(before, share._read()))
    assert own >= 0.25 and own <= wall + 0.05  # a busy loop on one thread: its own seconds, about the wall's
    assert own <= busy + 0.05  # this process's time is part of the machine's busy time
    assert busy <= (psutil.cpu_count() or 1) * wall + 0.05


def test_bench_busy_reports_idle_loaded_and_the_reference_in_one_run(tmp_path):
    config = tmp_path / "small.toml"  # small updates: several fit in a turn even on a machine busy with tests
    config.write_text("[grpo]\ngroups = 8\ngroup_size = 4\n")
    result = CliRunner().invoke(cli, ["bench", "busy", "--seconds", "3", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    for side in ("idle", "loaded", "reference_idle", "reference_loaded"):
        assert report[f"{side}_steps_per_s"] > 0
        assert sum(report[f"{side}_updates_by_threads"].values()) >= 1
    assert report["ratio"] == pytest.approx(report["loaded_steps_per_s"] / report["idle_steps_per_s"])
    idle, reference = report["idle_steps_per_s"], report["reference_idle_steps_per_s"]
    assert report["idle_vs_reference"] == pytest.approx(idle / reference)
    assert set(report["reference_idle_updates_by_threads"]) == {str(report["default_threads"])}
    for side in ("idle", "loaded", "reference_idle", "reference_loaded"):  # CPU seconds per second of training
        assert 0.3 < report[f"{side}_cores"] <= os.cpu_count() + 0.2


def test_ctrl_c_stops_bench_busy_with_one_line_and_no_process_left(tmp_path):
    """Ctrl-C reaches the whole process group: before, the burner printed its own KeyboardInterrupt traceback."""
    import sys

    from league_process import LeagueProcess

    with LeagueProcess([sys.executable, "-m", "league", "bench", "busy", "--seconds", "4"], cwd=tmp_path,
                       new_session=True, merge_stderr=True) as bench:
        # `bench busy` prints nothing before its report: wait until the burner (a spawned child) is up and the bench
        # has then spent a CPU second of its own, i.e. it trains (it starts right after starting the burner)
        head = psutil.Process(bench.pid)

        def burner():
            try:
                return [p for p in head.children() if "spawn_main" in " ".join(p.cmdline())]
            except psutil.Error:
                return []

        def own_cpu():
            try:
                return sum(head.cpu_times()[:2])
            except psutil.Error:  # it ended: the wait says so
                return float("nan")

        bench.wait_until(burner, timeout=120, what="the burner is up")
        cpu = own_cpu()
        bench.wait_until(lambda: own_cpu() > cpu + 1, timeout=60, what="training has started")
        bench.interrupt()
        code, out, _ = bench.finish(timeout=60)
        assert code != 0 and "Traceback" not in out and "KeyboardInterrupt" not in out, out
        for _ in range(100):  # nothing of the group is left (the resource tracker leaves when its pipe closes)
            try:
                os.killpg(bench.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("a process of bench busy outlived it")
