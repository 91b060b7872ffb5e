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
