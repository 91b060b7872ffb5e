"""Reports recomputed from stored results: cross-play matrix, CSV/JSON export, plots."""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from league.cli import cli
from league.matches import play_match
from league.reports import crossplay


@pytest.fixture(scope="module")
def league(tmp_path_factory, tiny_league):
    d = tmp_path_factory.mktemp("reports")
    store, manager = tiny_league(d, teams=2, generations=1, steps_per_generation=1600, match_seeds=2,
                                 opponents=["parent", "random"])
    play_match(store, manager.league, "alpha/g1", "beta/g1", seeds=3, mixed=True)
    yield store, manager.league, d
    store.close()


def test_crossplay_matrix_averages_mixed_and_pure_teams(league):
    store, lg, _ = league
    names, matrix = crossplay(store, lg)
    a, b = names.index("default/alpha/g1"), names.index("default/beta/g1")
    mixed = [r["team_return"] for r in store.mixed_results(lg["id"])]
    assert len(mixed) == 6
    assert matrix[a, b] == pytest.approx(np.mean(mixed)) and matrix[b, a] == matrix[a, b]
    own = [r["return_a"] for m in store.matches(lg["id"], kind="duplicate") if m["name_a"] == "default/alpha/g1"
           for r in store.match(m["id"])["results"]]
    assert matrix[a, a] == pytest.approx(np.mean(own))


def test_export_csv_and_json(league, tmp_path):
    store, lg, d = league
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "--format", "csv", "--out", str(tmp_path), "--db", str(d / "league.db")])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == sum(m["seeds"] for m in store.matches(lg["id"]))
    assert {r["kind"] for r in rows} == {"duplicate", "mixed"}
    with open(tmp_path / "ratings.csv") as f:
        ratings = list(csv.DictReader(f))
    assert [r["rank"] for r in ratings] == [str(i + 1) for i in range(len(ratings))]
    result = runner.invoke(cli, ["export", "--format", "json", "--out", str(tmp_path), "--db", str(d / "league.db")])
    data = json.loads((tmp_path / "default.json").read_text())
    assert data["game"] == "simple_spread" and len(data["results"]) == len(rows)
    assert [r["player"] for r in data["ratings"]] == [r["player"] for r in ratings]


@pytest.mark.parametrize("what", ["ratings", "learning", "crossplay"])
def test_plots_are_pngs(league, tmp_path, what):
    _, _, d = league
    out = tmp_path / f"{what}.png"
    result = CliRunner().invoke(cli, ["plot", what, "--out", str(out), "--db", str(d / "league.db")])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_bad_plot_and_format_are_usage_errors(league, tmp_path):
    _, _, d = league
    runner = CliRunner()
    assert runner.invoke(cli, ["plot", "elo", "--out", str(tmp_path / "x.png")]).exit_code == 2
    assert runner.invoke(cli, ["export", "--format", "xml"]).exit_code == 2


def test_crossplay_ratio_compares_gains_over_random_of_different_teams_only():
    from league.reports import crossplay_ratio

    names = ["x/alpha/g1", "x/alpha/g2", "x/beta/g1"]
    nan = float("nan")
    matrix = np.array([[-10.0, -12.0, -30.0],
                       [-12.0, -14.0, nan],
                       [-30.0, nan, -10.0]])
    ratio = crossplay_ratio(names, matrix, random_return=-50.0)
    # alpha/g1 x beta/g1 only (both ways): cross -30, self (-10 + -10) / 2; alpha's own pair is not cross-play
    assert ratio["pairs"] == 2 and ratio["cross_play"] == -30.0 and ratio["self_play"] == -10.0
    assert ratio["ratio"] == pytest.approx((-30 + 50) / (-10 + 50))
    assert crossplay_ratio(names[:2], matrix[:2, :2], -50.0) is None  # one team: nothing to compare


def test_crossplay_command_reports_the_ratio(league):
    store, lg, d = league
    result = CliRunner().invoke(cli, ["crossplay", "--json", "--db", str(d / "league.db")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    names, matrix = data["players"], np.array([[np.nan if v is None else v for v in row] for row in data["matrix"]])
    ratio = data["crossplay_ratio"]
    a, b = names.index("default/alpha/g1"), names.index("default/beta/g1")
    assert ratio["cross_play"] == pytest.approx(matrix[a, b], abs=1e-3)
    gain = ratio["self_play"] - ratio["random"]  # this tiny league's teams may be no better than random yet
    expected = (ratio["cross_play"] - ratio["random"]) / gain if gain > 1e-9 else None
    assert ratio["ratio"] == (pytest.approx(expected) if expected is not None else None)
    text = CliRunner().invoke(cli, ["crossplay", "--db", str(d / "league.db")]).output
    assert ("cross-play / self-play" in text) == (expected is not None)
    if expected is not None:
        assert f"cross-play / self-play, players of different teams: {expected:.2f}" in text
