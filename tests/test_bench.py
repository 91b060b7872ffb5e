"""`league bench learn`: thresholds are read off the evaluation curve, evaluation time is kept off the clock.
`league bench league`: the same league per worker count, ratios to the serial run."""

import json

import pytest
from click.testing import CliRunner

from league import load_team
from league.cli import cli


def test_bench_learn_reports_curve_thresholds_and_checkpoint(tmp_path):
    out = tmp_path / "spread.pt"
    config = tmp_path / "small.toml"  # small updates, so several fit in the 3 s budget even on a busy machine
    config.write_text("[grpo]\ngroups = 8\ngroup_size = 4\nthreads = 1\n")  # one thread: no waiting on a busy core
    result = CliRunner().invoke(cli, ["bench", "learn", "--minutes", "0.05", "--eval-every", "1", "--config",
                                      str(config), "--eval-episodes", "8", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    curve = report["curve"]
    assert len(curve) >= 2 and report["train_seconds"] >= 3.0
    assert curve[-1]["greedy_return"] == report["trained"][0] and curve[-1]["score"] == report["final_score"]
    r, s = report["random"][0], report["scripted"][0]
    for point in curve:  # the score is the normalized greedy return
        assert abs(point["score"] - (point["greedy_return"] - r) / (s - r)) < 1e-9
    for target in ("0.5", "0.8", "1.0"):
        first = next((p for p in curve if p["score"] >= float(target)), None)
        assert report["reached"].get(target) == (
            None if first is None else {"train_seconds": first["train_seconds"], "env_steps": first["env_steps"]})
    assert report["train_steps_per_s"] == report["env_steps"] / report["train_seconds"]
    assert load_team(out, report["sha256"]).game == "simple_spread"
    text = CliRunner().invoke(cli, ["bench", "learn", "--minutes", "0.02", "--eval-every", "0.5", "--config",
                                    str(config), "--eval-episodes", "4", "--out", str(out)])
    assert text.exit_code == 0, text.output
    rows = [line for line in text.output.split("evaluations (")[1].splitlines() if line.startswith("    ")]
    assert len(rows) >= 2 and all(" +- " in row and "score" in row for row in rows)


def test_bench_league_runs_the_same_league_per_worker_count(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.chdir(tmp_path)  # the benchmark must leave nothing behind
    result = CliRunner().invoke(cli, ["bench", "league", "--workers", "1,2", "--teams", "2", "--generations", "1",
                                      "--steps", "2000", "--matches", "3", "--seeds", "2", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    assert [(r["workers"], r["runner"]) for r in rows] == [(1, "this process"), (2, "ray")]
    for row in rows:
        assert row["generations"] == 2 and row["matches"] == 3
        assert row["matches_per_s"] == 3 / row["match_seconds"]
        assert row["matches_ratio"] == row["matches_per_s"] / rows[0]["matches_per_s"]
    assert rows[0]["generations_ratio"] == 1.0 and rows[0]["startup_seconds"] < rows[1]["startup_seconds"]
    assert list(tmp_path.iterdir()) == []
