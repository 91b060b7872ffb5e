"""The `league` CLI: listings, JSON output, and one clear error line on bad input."""

import json

import pytest
from click.testing import CliRunner

import games
from conftest import one_error_line
from league.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_games_json_lists_every_game_with_roles_and_spaces(run):
    result = run("games", "--json")
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert sorted(rows) == games.names()
    sl = rows["simple_speaker_listener"]
    assert sl["roles"]["speaker"] == {"agents": ["speaker_0"], "obs_shape": [3], "actions": 3}
    assert sl["roles"]["listener"]["obs_shape"] == [11]
    assert rows["simple_spread"]["horizon"] == 25 and rows["simple_spread"]["batched_core"] is True
    assert all(row["batched_core"] for row in rows.values())  # every game has a vectorized core
    assert {name: row["symmetries"] for name, row in rows.items()} == {  # landmark relabellings, 3! each
        "simple_spread": 6, "simple_speaker_listener": 6, "simple_reference": 6, "pursuit": 0,
        "knights_archers_zombies": 0, "hanabi": 120, "cooperative_pong": 0, "simple_line": 0,
        "simple_formation": 0}


def test_games_table_names_every_game(run):
    out = run("games").output
    for name in games.names():
        assert name in out


def test_bench_env_unknown_game_is_one_line(run):
    one_error_line(run("bench", "env", "--game", "chess"), "unknown game 'chess'", "simple_spread")


def test_bench_env_bad_batch_sizes(run):
    one_error_line(run("bench", "env", "--batch-sizes", "8,x"), "--batch-sizes")
    one_error_line(run("bench", "env", "--batch-sizes", "0"), "values must be from 1 to 65,536")


def test_bad_json_usage_is_a_usage_error(run):
    one_error_line(run("games", "--json", "extra"), "extra")
    one_error_line(run("games", "--json=yes"), "--json")


def test_bench_env_reports_ratios_against_the_reference(run):
    result = run("bench", "env", "--seconds", "0.1", "--batch-sizes", "4,16", "--json")
    data = json.loads(result.output)
    assert data["batch_kind"] == "SpreadBatch"
    assert [row["num_envs"] for row in data["batched"]] == [4, 16]
    for row in data["batched"]:
        assert row["ratio"] == pytest.approx(row["steps_per_s"] / data["reference_steps_per_s"])
    assert data["best_ratio"] == max(row["ratio"] for row in data["batched"])
