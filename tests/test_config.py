"""Configuration: the documented example round-trips, presets sit under user settings, teams get own seeds."""

import re
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
    import games

    PRESETS = {name: games.get(name).preset for name in ("pursuit", "knights_archers_zombies")}
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


# ---------------------------------------------------------------- issue 17: every value checked at the edge
import math  # noqa: E402

from league.config import TomlDocument, read_toml  # noqa: E402
from league.limits import LIMITS, Range  # noqa: E402
from league.resources import ResourceError, check_resources  # noqa: E402
from tests.conftest import one_error_line  # noqa: E402


def out_of_range(limit: Range, integer: bool) -> list:
    """Values just outside `limit` and far outside it."""
    below = limit.low if limit.low_open else (limit.low - 1 if integer else limit.low - 0.5)
    above = limit.high if limit.high_open else (limit.high + 1 if integer else limit.high * 2 + 1)
    return [below, above] + ([2**63 - 1, -(2**63), 10**400] if integer else [math.inf, -math.inf, math.nan, 1e308,
                                                                          -1e308])


def number_cases():
    hints = {"grpo": GRPOConfig.__annotations__, "league": LeagueConfig.__annotations__}
    for path, limit in LIMITS.items():
        section, key = path.split(".")
        if section not in hints:
            continue
        integer = hints[section][key] == "int"
        wrong_types = [True, "1", [1], {"a": 1}] + ([1.5] if integer else [])
        for value in out_of_range(limit, integer) + wrong_types:
            yield pytest.param(section, key, value, limit, id=f"{path}={value!r}"[:60])


@pytest.mark.parametrize("section, key, value, limit", list(number_cases()))
def test_every_number_is_checked_finite_and_in_range(section, key, value, limit):
    """Issue 17 classes 4, 5, 10: inf, nan, 1e308, -1, 2**63, bools, strings and tables for every number; the
    one-line error names the setting, its limit and the value, and comes from reading the document."""
    with pytest.raises(ConfigError) as caught:
        LeagueConfig.from_toml({section: {key: value}})
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    assert f"{section}.{key} must be" in message and str(limit) in message, message


@pytest.mark.parametrize("path, limit", [(p, r) for p, r in LIMITS.items() if p.split(".")[0] in ("grpo", "league")])
def test_every_limit_is_reachable_and_the_defaults_are_inside(path, limit):
    """The default lies inside; the lowest and highest values the limit allows are taken as they are."""
    section, key = path.split(".")
    config = GRPOConfig() if section == "grpo" else LeagueConfig()
    assert getattr(config, key) in limit
    integer = type(config).__annotations__[key] == "int"
    step = (lambda x, to: x + (1 if to > x else -1)) if integer else math.nextafter
    lowest = step(limit.low, math.inf) if limit.low_open else limit.low
    highest = step(limit.high, -math.inf) if limit.high_open else limit.high
    for value in (lowest, highest):
        setattr(config, key, value)
        assert getattr(config, key) == value and type(getattr(config, key)) is (int if integer else float)


@pytest.mark.parametrize("text, needles", [
    ("league = 3", ["league must be a table", "an integer 3"]),
    ("grpo = [1, 2]", ["grpo must be a table", "an array"]),
    ("team = 'alpha'", ["team must be a table", "a string 'alpha'"]),
    ("lr = 0.1", ["unknown table(s) 'lr'"]),
    ("[league]\nname = ['a', 'b']", ["league.name must be str", "an array"]),
    ("[league]\nname = 2024-01-01", ["league.name must be str", "a date 2024-01-01"]),
    ('[league]\nname = "a\\nb"', ["league.name must be str of 1 to 100 printable characters", "'a\\nb'"]),
    ("[league]\nname = 'a/b'", ["league.name", "letters, digits"]),
    ("[league]\nname = '" + "x" * 100_000 + "'", ["league.name", "100000 characters"]),
    ("[league]\nopponents = 'parent'", ["league.opponents must be an array"]),
    ("[league]\nopponents = [['parent']]", ["league.opponents[0] must be a rule name"]),
    ("[league]\nopponents = [1]", ["league.opponents[0]", "an integer 1"]),
    ("[league]\nteams = 2.0", ["league.teams must be int in [1, 8]", "a float 2.0"]),
    ("[league]\ncolour = 'red'", ["unknown league setting(s) 'colour'"]),
    ("[grpo]\ngame = ['simple_spread']", ["grpo.game must be str", "an array"]),
    ("[grpo]\ngroups = '32'", ["grpo.groups must be int in [1, 4096]", "a string '32'"]),
    ("[grpo]\ngroups = true", ["grpo.groups must be int", "a boolean true"]),
    ("[grpo]\nseed = 1979-05-27T07:32:00Z", ["grpo.seed must be int", "a date-time"]),
    ("[grpo]\nscale_by_std = 1", ["grpo.scale_by_std must be true or false", "an integer 1"]),
    ("[grpo]\nadvantage = 3", ["grpo.advantage must be one of 'episode', 'step'", "an integer 3"]),
    ("[grpo.lr]\nvalue = 0.1", ["grpo.lr must be a finite float in (0, 1]", "a table"]),
    ("[grpo]\nlr = " + "[" * 100_000 + "]" * 100_000, ["not valid TOML", "nested too deeply"]),
    ("[grpo]\nlearning_rate = 0.1", ["unknown setting(s) 'learning_rate' in [grpo]"]),
    ("[grpo]\ngame_kwargs = 3", ["grpo.game_kwargs must be a table", "an integer 3"]),
    ("[grpo.game_kwargs.N]\nvalue = 3", ["grpo.game_kwargs.N must be", "a table"]),
    ("[grpo.game_kwargs]\nN = [3]", ["grpo.game_kwargs.N must be", "an array"]),
    ("[grpo.game_kwargs]\nlocal_ratio = nan", ["grpo.game_kwargs.local_ratio must be a finite float", "nan"]),
    ("[grpo]\ngame = 'pursuit'\n[grpo.game_kwargs]\nmax_cycles = 1000000",
     ["grpo.game_kwargs: pursuit: option max_cycles must be an integer from 1 to 100000", "1000000"]),
    ("[grpo]\ngame = 'simple_spread'\n[grpo.game_kwargs]\nN = 'three'",
     ["grpo.game_kwargs: simple_spread: option N must be an integer from 2 to 32", "'three'"]),
    ("[grpo]\ngame = 'simple_spread'\n[grpo.game_kwargs]\ncurriculum = 1",
     ["grpo.game_kwargs: simple_spread: option curriculum must be true or false", "got 1"]),
    ("[grpo]\ngame = 'simple_spread'\n[grpo.game_kwargs]\ncolour = 1", ["unknown option(s) colour"]),
    ("[team]\nalpha = 3", ["team.alpha must be a table of GRPO settings", "an integer 3"]),
    ("[team.alpha.lr]\nx = 1", ["team.alpha.lr must be a finite float", "a table"]),
    ("[team.alpha]\nlr = inf", ["team.alpha.lr must be a finite float in (0, 1]", "inf"]),
    ("[team.alpha]\nfoo = 1", ["unknown setting(s) 'foo' in [team.alpha]"]),
    ("[team.alpha]\ngame = 'pursuit'", ["[team.alpha] cannot change the game"]),
])
def test_wrongly_shaped_toml_is_one_line_naming_key_and_file(tmp_path, text, needles):
    """Issue 17 class 10: a list where a name is expected, a number where a table is, a table where a number
    is, a string or bool for an int, nested tables, unknown keys: the file is refused in one line that starts
    with the file and names the key path and what it expects (its shape as it is read, its values as the
    configs are made)."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        LeagueConfig.from_toml(read_toml(path))
    message = str(caught.value)
    assert "\n" not in message and len(message) < 600 and message.startswith(f"{path}: "), message
    for needle in needles:
        assert needle in message, message


@pytest.mark.parametrize("text, needles", [
    ("[team.gamma]\nlr = 0.1", ["team_grpo names unknown team(s) gamma"]),
    ("[grpo]\npartner_seats = 3", ["partner_seats must be int from 1 to 2"]),
    ("[grpo]\nhidden = 4096\nlayers = 16", ["parameters", "above the limit of 10,000,000"]),
])
def test_errors_found_after_reading_still_name_the_file(tmp_path, text, needles):
    path = tmp_path / "league.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        LeagueConfig.from_toml(read_toml(path))
    assert str(caught.value).startswith(f"{path}: ") and all(n in str(caught.value) for n in needles)


@pytest.mark.parametrize("overrides, needle", [
    ({"teams": 99}, "command line: --teams must be int in [1, 8], got 99"),
    ({"generations": -1}, "command line: --generations must be int in [0, 10000], got -1"),
    ({"minutes_per_generation": math.inf}, "command line: --minutes-per-generation must be a finite float"),
    ({"minutes_per_generation": math.nan}, "got nan"),
    ({"seed": 2**63}, "command line: --seed must be int in [0, 2_147_483_647], got 9223372036854775808"),
    ({"name": "a/b"}, "command line: --league must be 1 to 64 letters, digits"),
    ({"game": "chess"}, "command line: unknown game 'chess'"),
])
def test_command_line_values_are_named_as_such(overrides, needle):
    with pytest.raises(ConfigError, match=None) as caught:
        LeagueConfig.from_toml(TomlDocument(), **overrides)
    assert needle in str(caught.value), str(caught.value)


def test_config_objects_check_their_values_when_made():
    """Any caller gets the checks: the dataclasses refuse bad values as they are built or a field is set."""
    with pytest.raises(ConfigError, match=r"lr must be a finite float in \(0, 1\], got inf"):
        GRPOConfig(lr=math.inf)
    with pytest.raises(ConfigError, match=r"layers must be int in \[1, 16\], got 100000"):
        GRPOConfig(layers=100_000)
    with pytest.raises(ConfigError, match=r"minutes_per_generation must be a finite float"):
        LeagueConfig(minutes_per_generation=math.nan)
    with pytest.raises(ConfigError, match="grpo must be a GRPOConfig"):
        LeagueConfig(grpo={"lr": 0.1})
    cfg = GRPOConfig()
    with pytest.raises(ConfigError, match="lr must be a finite float"):
        cfg.lr = math.nan
    assert cfg.lr == GRPOConfig().lr  # the bad value never landed
    assert GRPOConfig(clip_low=0.0, clip_high=0.0).validate().lr == GRPOConfig().lr  # 0 <= clip < 1


def test_resources_are_estimated_without_allocating():
    """Issue 17 class 5: the parameter count is the policy's own, counted on the meta device; huge networks
    and rollouts are refused in one line before anything is made."""
    from league.grpo import new_policy

    for game in ("simple_spread", "knights_archers_zombies"):
        cfg = GRPOConfig(game=game, hidden=16)
        assert check_resources(cfg).parameters == sum(p.numel() for p in new_policy(cfg).parameters())
    cfg = GRPOConfig()
    expected = cfg.groups * cfg.group_size * 25 * 3 * 18  # M x G x horizon x agents x observation width
    assert check_resources(cfg).rollout_numbers == expected
    with pytest.raises(ResourceError) as caught:
        GRPOConfig(hidden=4096, layers=16).validate()  # would be a 2.8 GiB checkpoint
    assert "hidden 4096, layers 16" in str(caught.value) and "parameters" in str(caught.value)
    assert "above the limit of 10,000,000" in str(caught.value)
    with pytest.raises(ResourceError) as caught:
        GRPOConfig(groups=4096, group_size=1024).validate()
    assert "groups 4096 x group_size 1024 x 25 steps x 3 agents x 18 observations" in str(caught.value)
    assert "limit" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ResourceError, match="of checkpoints, above the 64.0 GiB limit"):
        LeagueConfig.from_toml({"league": {"teams": 8, "generations": 600}, "grpo": {"hidden": 2048, "layers": 3}})
    with pytest.raises(ConfigError, match="8 team\\(s\\) x 10,001 generations = 80,010 players with the baselines, "
                                          "above the 5,000 one rating fit handles"):
        LeagueConfig.from_toml({"league": {"teams": 8, "generations": 10_000}})
    with pytest.raises(ResourceError, match="parameters"):  # 100 zombies and arrows: a big table to embed
        LeagueConfig.from_toml({"grpo": {"game": "knights_archers_zombies", "hidden": 4096, "layers": 2,
                                         "game_kwargs": {"max_zombies": 100, "max_arrows": 100}}})


@pytest.mark.parametrize("text", [
    "[grpo]\nlr = inf",
    "[grpo]\nlayers = 100000",
    "[grpo]\ngroups = 4096\ngroup_size = 1024",
    "league = 3",
    "[league]\nname = ['a']",
    "[grpo.lr]\nx = 1",
    "[league]\nsteps_per_generation = 9223372036854775807",
])
def test_train_refuses_bad_files_before_writing_anything(tmp_path, text):
    (tmp_path / "bad.toml").write_text(text)
    result = CliRunner().invoke(cli, ["train", "--config", str(tmp_path / "bad.toml"), "--db", str(tmp_path / "x.db"),
                                      "--checkpoints", str(tmp_path / "ck")])
    one_error_line(result, str(tmp_path / "bad.toml"))
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "ck").exists()


def test_a_game_table_names_the_game_and_its_options(tmp_path):
    from league.config import ConfigError, read_toml

    path = tmp_path / "game.toml"
    path.write_text('[game]\nname = "simple_spread"\nN = 4\n\n[grpo]\nlr = 0.01\n')
    config = LeagueConfig.from_toml(read_toml(path))
    assert (config.grpo.game, config.grpo.game_kwargs, config.grpo.lr) == ("simple_spread", {"N": 4}, 0.01)
    for text, message in [
        ('[game]\nN = 4\n', "[game] needs name"),
        ('[game]\nname = "simple_spread"\n[grpo]\ngame = "pursuit"\n', "name the game once"),
        ('game = 3\n', "game must be a table"),
        ('[game]\nname = "simple_spread"\nN = 1e400\n', "grpo.game_kwargs.N must be a finite float, got inf"),
        ('[game]\nname = "simple_spread"\nN = 1.5\n', "game_kwargs: simple_spread: option N must be an integer"),
    ]:
        path.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(message)):
            LeagueConfig.from_toml(read_toml(path))


@pytest.mark.parametrize("name", ["..", ".", "a/b", "../x", "a\nb", "x" * 65, "", "-x", " x", "a b"])
def test_league_names_that_are_not_plain_folder_names_are_refused_before_anything_is_written(tmp_path, name):
    result = CliRunner().invoke(cli, ["train", "--league", name, "--db", str(tmp_path / "l.db"), "--checkpoints",
                                      str(tmp_path / "ck"), "--teams", "1", "--generations", "1"])
    assert result.exit_code != 0 and result.output.startswith(("Error: ", "Usage: ")), result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) in (1, 3)
    assert not (tmp_path / "l.db").exists() and not (tmp_path / "ck").exists() and not (tmp_path.parent / "x").exists()


def test_a_change_after_validating_is_validated_again():
    """Validation is done once for the settings as they are: a change, even one made inside a table without
    setting a field, is validated again, and a league's team configs follow its shared settings."""
    cfg = GRPOConfig(game="pursuit").validate()
    cfg.game_kwargs["x_size"] = 1  # in place: no field is set
    with pytest.raises(ConfigError, match="option x_size must be an integer from 3 to 100"):
        cfg.validate()
    league = LeagueConfig(teams=1).validate()
    assert league.team_config("alpha").lr == GRPOConfig().lr
    league.grpo.lr = 0.01
    league.team_grpo["alpha"] = {"hidden": 8}
    assert (league.team_config("alpha").lr, league.team_config("alpha").hidden) == (0.01, 8)
