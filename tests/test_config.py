"""Configuration: the documented example round-trips, presets sit under user settings, teams get own seeds."""

import tomllib

import pytest
from click.testing import CliRunner

from league.cli import cli
from league.config import ConfigError, GRPOConfig, LeagueConfig


def test_example_config_is_valid_and_means_the_defaults():
    text = CliRunner().invoke(cli, ["config", "--example"]).output
    config = LeagueConfig.from_toml(tomllib.loads(text))
    assert config.to_dict() == LeagueConfig().validate().to_dict()
    for field in GRPOConfig().to_dict():  # every GRPO setting is documented in the example
        assert field in text


def test_presets_apply_under_user_settings():
    from league.config import PRESETS

    groups = PRESETS["pursuit"]["groups"]
    assert groups != GRPOConfig().groups  # else this test could not tell the preset from the default
    pursuit = LeagueConfig.from_toml({"grpo": {"game": "pursuit"}})
    assert (pursuit.grpo.groups, pursuit.grpo.lr) == (groups, PRESETS["pursuit"]["lr"])
    mine = LeagueConfig.from_toml({"grpo": {"game": "pursuit", "lr": 0.01}})
    assert (mine.grpo.groups, mine.grpo.lr) == (groups, 0.01)
    cli_game = LeagueConfig.from_toml({"grpo": {"lr": 0.01}}, game="knights_archers_zombies")
    kaz_groups = PRESETS["knights_archers_zombies"].get("groups", GRPOConfig().groups)
    assert (cli_game.grpo.game, cli_game.grpo.groups, cli_game.grpo.lr) == ("knights_archers_zombies", kaz_groups, 0.01)


def test_teams_get_their_own_seed_and_overrides():
    config = LeagueConfig.from_toml({"league": {"teams": 3, "seed": 10}, "team": {"beta": {"lr": 0.001}}})
    seeds = [config.team_config(t).seed for t in config.team_names]
    assert config.team_names == ["alpha", "beta", "gamma"] and seeds == [10, 11, 12]
    assert config.team_config("beta").lr == 0.001 and config.team_config("alpha").lr == GRPOConfig().lr


@pytest.mark.parametrize("data, needle", [
    ({"league": {"teams": 0}}, "teams"),
    ({"league": {"opponents": ["everyone"]}}, "opponent rule"),
    ({"league": {"match_seeds": 0}}, "match_seeds"),
    ({"team": {"omega": {"lr": 0.1}}}, "omega"),
    ({"team": {"alpha": {"lr": -1.0}}}, "lr"),
    ({"leauge": {}}, "unknown table"),
    ({"team": {"beta": {"game_kwargs": {"N": 4}}}}, "cannot change the game"),
    ({"league": {"colour": "red"}}, "unknown league setting"),
])
def test_bad_values_are_named(data, needle):
    with pytest.raises(ConfigError, match=needle):
        LeagueConfig.from_toml(data)
