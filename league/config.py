"""Settings: one dataclass per concern, a docstring under every field. TOML in; JSON-able dicts out.

Derived values are computed in one marked place (`GRPOConfig.validate`), never scattered through the trainer.

Every value is checked at the edge, before any work or write: `read_toml` checks a file's shape and every value
in it, the dataclasses check each value against its annotation and its limits (the LIMITS table) as they are
made, `validate` checks what depends on the game and what the settings add up to (`check_resources`: network
size, memory of an update, checkpoint disk). A bad value is one ConfigError line that names the setting, its
limit, the value and, where known, where it came from (the file or the command line).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import math
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from league.files import read_bounded


class ConfigError(ValueError):
    """A setting has a bad value, type or name; the message is one line that names the setting, what it
    accepts and, where known, where the value came from (a file, the command line). `key`: the setting at
    fault, where there is one."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class ResourceError(ConfigError):
    """Settings whose network or rollouts would not fit (`check_resources`): refused before anything is
    allocated or written."""


@dataclass(frozen=True)
class Range:
    """Closed or open interval a number must lie in; prints as `[1, 4096]` or `(0, 1]`."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, x: float) -> bool:
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def __str__(self) -> str:
        def num(x: float) -> str:
            return (f"{x:_}" if abs(x) >= 100_000 else str(x)) if isinstance(x, int) else f"{x:g}"
        return f"{'(' if self.low_open else '['}{num(self.low)}, {num(self.high)}{')' if self.high_open else ']'}"


# ---------------------------------------------------------------- the limits of every setting, in one table
# Every number must be finite and in its range; an int setting never takes a bool or a float. The upper
# bounds are far above anything this project trains (CPU-sized MLPs); what the settings add up to (network
# size, rollout memory, checkpoint disk) is checked as a whole by `check_resources`.
LIMITS: dict[str, Range] = {
    # [grpo]
    "grpo.seed": Range(0, 2**32 - 1),  # numpy's SeedSequence refuses negative seeds
    "grpo.groups": Range(1, 4096),
    "grpo.group_size": Range(2, 1024),  # a group of one has nothing to compare
    "grpo.gamma": Range(0.0, 1.0, low_open=True),
    "grpo.branch_every": Range(0, 100_000),  # 0 = no branching
    "grpo.epochs": Range(1, 100),
    "grpo.minibatch_size": Range(1, 2**22),
    "grpo.lr": Range(0.0, 1.0, low_open=True),
    "grpo.lr_half_life": Range(0, 10**9),  # 0 = constant
    "grpo.clip_low": Range(0.0, 1.0, high_open=True),  # the ratio's floor 1 - clip_low stays above 0
    "grpo.clip_high": Range(0.0, 1.0, high_open=True),
    "grpo.kl_coef": Range(0.0, 100.0),
    "grpo.entropy_coef": Range(0.0, 100.0),
    "grpo.max_grad_norm": Range(0.0, 1e6, low_open=True),
    "grpo.hidden": Range(1, 4096),
    "grpo.layers": Range(1, 16),
    "grpo.steer_hidden": Range(1, 4096),
    "grpo.partner_share": Range(0.0, 1.0),
    "grpo.partner_seats": Range(1, 1000),  # and below the game's seat count (`GRPOConfig.validate`)
    "grpo.partner_pool": Range(0, 1000),
    "grpo.eps": Range(0.0, 1.0, low_open=True),
    "grpo.threads": Range(0, 1024),  # 0 = follow the machine (one or two)
    # [league]
    "league.teams": Range(1, 8),  # one per name in TEAM_NAMES
    "league.generations": Range(0, 10_000),
    "league.steps_per_generation": Range(1, 10**12),
    "league.minutes_per_generation": Range(0.0, 525_600.0),  # 0 = use steps_per_generation; at most a year
    "league.seed": Range(0, 2**31 - 1),  # team k trains with seed + k
    "league.match_seeds": Range(1, 10_000),
    # history:K opponent rules
    "opponents.history": Range(1, 1000),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "grpo.advantage": ("episode", "step"),
    "grpo.architecture": ("auto", "mlp"),
    "grpo.partner_draw": ("uniform", "prioritized"),
    "grpo.device": ("cpu", "cuda", "auto"),
}
MAX_TEXT = 100
"""Most characters of a name or any other text setting (league name, game name, game option values)."""
MAX_OPPONENT_RULES = 64
"""Most rules in `opponents`."""

# What the settings may add up to (`check_resources`): far above this project's networks (thousands to tens of
# thousands of parameters) and rollouts (the largest preset keeps about 0.3 GiB of observations per update).
MAX_PARAMETERS = 10_000_000
"""Most parameters of a team's network (a checkpoint stores 12 bytes each with its Adam state: 120 MB)."""
MAX_TRAINING_BYTES = 16 * 2**30
"""Most memory one update may need (rollout, its flattened copy, activations, weights and optimizer state);
lower where the machine has less (`memory_limit`)."""
MAX_CHECKPOINT_BYTES = 64 * 2**30
"""Most disk a league's checkpoints may take in all (every team's g0 .. gN)."""
CHECKPOINT_BYTES_PER_PARAMETER = 12
"""Weights and Adam's two moments, float32."""

_KINDS = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
          dict: "a table", datetime.datetime: "a date-time", datetime.date: "a date", datetime.time: "a time"}


def shown(value: Any) -> str:
    """`value` as a short one-line text for an error message (long texts, arrays and numbers are cut)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        digits = str(value)
        return digits if len(digits) <= 24 else f"{digits[:12]}... ({len(digits.lstrip('-'))} digits)"
    if isinstance(value, (datetime.date, datetime.time)):  # TOML dates and times read as they are written
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _label(text: str) -> str:
    """A key as it reads in a message: itself when short and printable, else quoted and cut."""
    return text if isinstance(text, str) and len(text) <= 40 and text.isprintable() and text else shown(text)


def _got(value: Any) -> str:
    kind = next((k for t, k in _KINDS.items() if type(value) is t), None)
    kind = kind or next((k for t, k in _KINDS.items() if isinstance(value, t)), f"a {type(value).__name__}")
    return f"{kind} {shown(value)}"


@functools.cache
def _hints(section: str) -> dict[str, Any]:
    cls = {"grpo": GRPOConfig, "league": LeagueConfig}[section]
    return typing.get_type_hints(cls)


def _number(value: Any, name: str, key: str, limit: Range, integer: bool, why: str = "") -> Any:
    """An int (never a bool) or a finite float (ints accepted, returned as float) within `limit`."""
    expect = f"int in {limit}" if integer else f"a finite float in {limit}"
    expect += f" ({why})" if why else ""
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise ConfigError(f"{name} must be {expect}, got {_got(value)}", key)
    if not integer:
        try:
            value = float(value)
        except OverflowError:  # an int beyond float range
            raise ConfigError(f"{name} must be {expect}, got {shown(value)}", key) from None
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be {expect}, got {shown(value)}", key)
    if value not in limit:
        raise ConfigError(f"{name} must be {expect}, got {shown(value)}", key)
    return value


def _text(value: Any, name: str, key: str, what: str = "str") -> str:
    """A string of 1 to MAX_TEXT characters without control characters (messages stay one line)."""
    expect = f"{what} of 1 to {MAX_TEXT} printable characters"
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be {expect}, got {_got(value)}", key)
    if not 1 <= len(value) <= MAX_TEXT or not value.isprintable():
        raise ConfigError(f"{name} must be {expect}, got {shown(value)}"
                          + (f" ({len(value)} characters)" if len(value) > MAX_TEXT else ""), key)
    return value


def _option_value(value: Any, name: str, key: str) -> Any:
    """A game option as TOML gives it: a scalar, floats finite, texts short. Its type and bounds are the game's
    to check (`games.spec.GameSpec.resolve_kwargs`), which `GRPOConfig.validate` always asks."""
    if isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite float, got {shown(value)}", key)
        return value
    if isinstance(value, str):
        return _text(value, name, key)
    if value is None:  # Python callers: options whose default is None (num_landmark_neighbors)
        return value
    raise ConfigError(f"{name} must be a boolean, number or string, got {_got(value)}", key)


def _table(value: Any, name: str, key: str, what: str = "a table") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be {what}, got {_got(value)}", key)
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise ConfigError(f"{name} must be {what} with text keys, got key {_got(bad[0])}", key)
    return value


LEAGUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A league's name: it is a folder under --checkpoints, so never '.', '..', a path, or a line break."""


def check_setting(section: str, key: str, value: Any, name: str | None = None) -> Any:
    """One setting of `section` ('grpo' or 'league') checked against its field's annotation and its limits
    (LIMITS, CHOICES); returns it (an int given for a float field as a float). A bad value is a one-line
    ConfigError that says `name` (default: the key), what it accepts and what it got. Settings that depend on
    others (the game's options, partner seats, resources) are checked by `validate`."""
    hints = _hints(section)
    name = name or key
    if key not in hints:
        known = ", ".join(sorted(f for f in hints if not (section == "league" and f in ("grpo", "team_grpo"))))
        raise ConfigError(f"unknown {section} setting {shown(key)}; known: {known}", key)
    hint, path = hints[key], f"{section}.{key}"
    if hint is int or hint is float:
        return _number(value, name, key, LIMITS[path], hint is int,
                       "a group of one has nothing to compare" if path == "grpo.group_size" else "")
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {_got(value)}", key)
        return value
    if hint is str and path in CHOICES:
        options = ", ".join(repr(c) for c in CHOICES[path])
        if not isinstance(value, str) or value not in CHOICES[path]:
            raise ConfigError(f"{name} must be one of {options}, got {_got(value)}", key)
        return value
    if hint is str:
        value = _text(value, name, key)
        if path == "league.name" and not LEAGUE_NAME.fullmatch(value):
            raise ConfigError(f"{name} must be 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or "
                              f"digit (it names a folder of checkpoints), got {shown(value)}", key)
        return value
    if hint == dict[str, Any]:  # game_kwargs
        table = _table(value, name, key, "a table of game options")
        return {k: _option_value(v, f"{name}.{k}", key) for k, v in table.items()}
    if hint == list[str]:  # opponents
        if not isinstance(value, list):
            raise ConfigError(f"{name} must be an array of rule names, got {_got(value)}", key)
        if len(value) > MAX_OPPONENT_RULES:
            raise ConfigError(f"{name} must hold at most {MAX_OPPONENT_RULES} rules, got {len(value)}", key)
        return [_text(v, f"{name}[{i}]", key, "a rule name") for i, v in enumerate(value)]
    if hint is GRPOConfig:
        if not isinstance(value, GRPOConfig):
            raise ConfigError(f"{name} must be a GRPOConfig, got {_got(value)}", key)
        return value
    if hint == dict[str, dict[str, Any]]:  # team_grpo
        table = _table(value, name, key, "a table of [team.<name>] tables")
        return {team: check_team_table(team, overrides, f"{name}.{_label(team)}")
                for team, overrides in table.items()}
    raise TypeError(f"no check for {path}: {hint}")  # a new field needs a rule here


def check_team_table(team: str, overrides: Any, name: str) -> dict[str, Any]:
    """A `[team.<name>]` table: GRPO settings (not the game: all teams of a league play the league's game)."""
    table = _table(overrides, name, "team_grpo", "a table of GRPO settings")
    if {"game", "game_kwargs"} & set(table):
        raise ConfigError(f"[team.{_label(team)}] cannot change the game or its options: all teams of a league "
                          f"play the league's game", "team_grpo")
    known = _hints("grpo")
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(shown(k) for k in unknown)} in [team.{_label(team)}]; "
                          f"known: {', '.join(sorted(known))}", "team_grpo")
    return {k: check_setting("grpo", k, v, f"{name}.{k}") for k, v in table.items()}


def check_document(data: Any, source: str | None = None) -> dict[str, Any]:
    """The shape of a league document (TOML: `[league]`, `[grpo]`, `[team.<name>]` tables) and every value
    in it, each against its field's type and limits; a ConfigError's message starts with `source` (the file)
    when given. Returns `data`."""
    try:
        _table(data, "the document", "", "a table")
        allowed = ("league", "grpo", "team", "game")
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ConfigError(f"unknown table(s) {', '.join(shown(k) for k in unknown)}; known: "
                              f"{', '.join(sorted(allowed))} (settings go in [league], [grpo] or [team.<name>], "
                              f"the game in [game])")
        if "game" in data:
            grpo = _table(data.get("grpo", {}), "grpo", "grpo", "a table ([grpo])")
            if "game" in grpo or "game_kwargs" in grpo:
                raise ConfigError("name the game once: in [game] (name = ..., then its options) or as game and "
                                  "game_kwargs in [grpo], not both", "game")
            data = {**{k: v for k, v in data.items() if k != "game"}, "grpo": {**grpo, **game_table(data["game"])}}
        for section in ("league", "grpo"):
            table = _table(data.get(section, {}), section, section, f"a table ([{section}])")
            hints = _hints(section)
            known = sorted(f for f in hints if f not in ("grpo", "team_grpo"))
            bad = sorted(set(table) - set(known))
            if bad:
                kind = "league setting(s)" if section == "league" else "setting(s)"
                raise ConfigError(f"unknown {kind} {', '.join(shown(k) for k in bad)} in [{section}]; known: "
                                  f"{', '.join(known)}", section)
            if section == "grpo" and "game" in table and isinstance(table.get("game_kwargs"), dict):
                # the game is named: its options are checked against it (names, types, its own limits)
                import games

                game = check_setting("grpo", "game", table["game"], "grpo.game")
                try:
                    spec = games.get(game)
                except games.GameError as e:
                    raise ConfigError(str(e), "game") from None
                check_game_options(spec, _table(table["game_kwargs"], "grpo.game_kwargs", "game_kwargs"),
                                   "grpo.game_kwargs")
            for key, value in table.items():
                check_setting(section, key, value, f"{section}.{key}")
        teams = _table(data.get("team", {}), "team", "team_grpo", "a table of [team.<name>] tables")
        for team, overrides in teams.items():
            check_team_table(team, overrides, f"team.{_label(team)}")
    except ConfigError as e:
        raise _from(e, source) from None
    return data


def _from(error: ConfigError, source: str | None) -> ConfigError:
    """`error` with its message prefixed by where the value came from (once)."""
    if not source or getattr(error, "source", None):
        return error
    out = type(error)(f"{source}: {error}", error.key)
    out.source = source  # type: ignore[attr-defined]
    return out


class TomlDocument(dict):
    """A TOML file's tables (a plain dict) that remembers its file, so later errors can name it."""

    source: str | None = None


@dataclass
class GRPOConfig:
    """How one team trains with GRPO (group-relative policy optimization, no critic). Every number's limits
    are in the LIMITS table (texts: CHOICES); they are checked as the config is made."""

    game: str = "simple_spread"
    """Registered game name (`league games`)."""
    game_kwargs: dict[str, Any] = field(default_factory=dict)
    """PettingZoo options of the game (N, local_ratio, max_cycles, ...); empty = the game's defaults."""
    seed: int = 0
    """Seeds parameter init, action sampling and the start states; same seed + config = same run on CPU."""
    groups: int = 32
    """M: distinct start states (seeds) per update."""
    group_size: int = 16
    """G: rollouts per start state; a rollout's advantage is its return relative to its G-1 siblings."""
    advantage: str = "step"
    """'episode': one advantage per rollout from its team return. 'step': each step's team reward-to-go is
    compared across the group at that step (finer credit; helps long games)."""
    gamma: float = 0.8
    """Discount of the step form's reward-to-go; below 1 it cuts the variance that far-future steps (where
    sibling rollouts have long diverged) add to each action's credit."""
    branch_every: int = 0
    """0: a group's G rollouts play the whole episode from their shared start. Above 0 (long games; the game's
    batched core must have `clone_rows`): episodes are cut into segments of this many steps, one update each,
    and before every segment all rows of a group become copies of one of them still playing (drawn at random),
    so siblings are compared from the same mid-episode state instead of a start they left long ago."""
    scale_by_std: bool = True
    """Divide by the group's std (GRPO). False keeps only the mean baseline (Dr. GRPO, arXiv:2503.20783)."""
    epochs: int = 1
    """Passes over each batch of rollouts. One pass: a second one cost a third of the time here and, per
    second of training, taught simple_spread no more (fresh rollouts are cheap with a batched core)."""
    minibatch_size: int = 16384
    """Agent-steps per gradient step."""
    lr: float = 0.005
    """Adam learning rate."""
    lr_half_life: int = 1000
    """Updates after which the learning rate halves (0 = constant). A high rate finds good play fast; halving
    it lets the policy settle instead of jittering on a plateau. Counts restart with each generation."""
    clip_low: float = 0.2
    """Ratio clip below 1 (1 - clip_low)."""
    clip_high: float = 0.28
    """Ratio clip above 1 (1 + clip_high); larger than clip_low keeps rare good actions growing (DAPO)."""
    kl_coef: float = 0.005
    """beta: weight of the k3 KL estimate to the frozen reference policy (the parent generation)."""
    entropy_coef: float = 0.0
    """Optional entropy bonus."""
    max_grad_norm: float = 0.5
    """Gradient norm clip."""
    hidden: int = 64
    """Width of each role network's hidden layers."""
    layers: int = 2
    """Hidden layers per role network."""
    architecture: str = "auto"
    """'auto': roles whose observation lists places to head for (simple_spread's landmarks) get a
    choose-a-target-then-steer mixture (`league.policy.ChooseAndSteer`; `MoveAndSay` where an action is a move
    and a word, simple_reference), roles whose observation is a table of entities to act on
    (knights_archers_zombies' zombies) a choose-a-target-then-act mixture (`ChooseAndAct`), the rest a plain
    MLP. 'mlp': a plain MLP for every role. Continuing from a checkpoint keeps the checkpoint's architecture."""
    steer_hidden: int = 32
    """Width of the steering (or acting) net's hidden layers (choose-and-steer and choose-and-act roles only)."""
    partner_share: float = 0.5
    """Share of each update's groups whose rollouts give some seats to a partner from the league's population
    (its trained generations, other teams' and this team's past ones, and the scripted baseline), so the team
    learns to play with partners it was not copied from, people included; the rest play self-play. Used once the
    league has a trained generation; 0 = self-play only. Only the team's own seats are trained."""
    partner_seats: int = 1
    """Seats a partner fills in a partnered group (one, as a person does in `league play`); drawn per group."""
    partner_draw: str = "uniform"
    """How a partnered group draws its partner: 'uniform', or 'prioritized' (the partners the team has scored
    worst with so far in this generation are drawn more often: weight 1 / rank, never-played ones first)."""
    partner_pool: int = 8
    """Most league generations in the pool: the other teams' latest first, then the most recent others."""
    other_play: bool = False
    """Other-Play (Hu et al., 2020): each group of rollouts draws one of the game's symmetries (a relabelling of
    the landmarks, their colours and the words: `GameSpec.symmetries`), and every seat but one (drawn per group;
    in a partnered group, the partner's) sees the game through it and acts in it. A code that pairs a word with
    another landmark does not survive the relabelling, so the team learns word k = landmark k, the code a person
    guesses. Groups keep one start, one partner and one symmetry. It applies when the team trains with partners
    (`partner_share` > 0 and a partner pool, i.e. a league's generations after its first): with nobody whose code
    is fixed, from scratch, a team that sees relabelled games stalled before finding any code. On in the word
    games' presets; needs a game that declares symmetries."""
    eps: float = 1e-6
    """Added to the group std before dividing."""
    device: str = "cpu"
    """'cpu', 'cuda' or 'auto' (cuda when available)."""
    threads: int = 0
    """torch CPU threads. 0 = follow the machine: two while a second core is free of other programs, one while it
    is not, decided before every update (league/cores.py); one and two threads give the same floats on CPU, so a
    Ray worker (one thread) trains the serial run's generation byte for byte. N = exactly N threads (more than two
    round differently from one)."""

    def __post_init__(self) -> None:
        """Every value checked against its type and limits (LIMITS) as the config is made; `validate` checks
        what depends on the game."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, check_setting("grpo", f.name, getattr(self, f.name)))

    def validate(self) -> GRPOConfig:
        """Checks every value (again: fields may have been set since), then what depends on the game (its
        options, seats, batched core) and what the settings add up to (`check_resources`); raises a one-line
        ConfigError naming the setting. Returns self for chaining."""
        import games

        for f in dataclasses.fields(self):
            setattr(self, f.name, check_setting("grpo", f.name, getattr(self, f.name)))
        try:
            spec = games.get(self.game)
        except games.GameError as e:
            raise ConfigError(str(e), "game") from None
        check_game_options(spec, self.game_kwargs)
        try:
            info = spec.info(**self.game_kwargs)
        except games.GameError as e:
            raise ConfigError(" ".join(str(e).split()), "game_kwargs") from None
        seats = len(info.agents)
        if not 1 <= self.partner_seats < max(seats, 2):
            raise ConfigError(f"partner_seats must be int from 1 to {seats - 1} ({self.game} has {seats} "
                              f"seats and the team keeps at least one), got {self.partner_seats!r}", "partner_seats")
        if self.other_play:
            from games.symmetry import SymmetryError, proven_symmetries

            if len(spec.symmetries(**self.game_kwargs)) < 2:
                raise ConfigError(f"other_play needs a game that declares symmetries and has a batched core to play "
                                  f"them on; {self.game} with these options has none: set other_play = false",
                                  "other_play")
            try:
                proven_symmetries(spec, **self.game_kwargs)  # a declared relabelling that is not a symmetry is refused
            except SymmetryError as e:
                raise ConfigError(f"other_play: {e}", "other_play") from None
        if self.branch_every and not hasattr(spec.batch(1, **self.game_kwargs), "clone_rows"):
            raise ConfigError(f"branch_every needs a batched core that can copy games (clone_rows); {self.game} "
                              f"with these options has none: set branch_every = 0", "branch_every")
        check_resources(self, info)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for checkpoints, the database and JSON output."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> GRPOConfig:
        """Builds and validates a config from `[grpo]` settings (a TOML table, a stored row); unknown keys
        are a ConfigError listing the known ones. `source` (a file, "stored team alpha") starts every error
        message."""
        try:
            table = _table(data, "grpo", "", "a table of GRPO settings")
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(table) - known)
            if unknown:
                raise ConfigError(f"unknown setting(s) {', '.join(shown(k) for k in unknown)}; known: "
                                  f"{', '.join(sorted(known))}", "grpo")
            return cls(**typed(cls, table)).validate()
        except ConfigError as e:
            raise _from(e, source) from None


# ---------------------------------------------------------------- what the settings add up to
@dataclass(frozen=True)
class Resources:
    """What one team's training needs, estimated from its settings and the game before anything is made."""

    parameters: int
    """Parameters of the team's network (built on torch's meta device: exact, nothing allocated)."""
    checkpoint_bytes: int
    """One generation's checkpoint: weights and Adam's two moments, float32."""
    rollout_numbers: int
    """Observation numbers one update keeps: groups x group_size x steps x agents x observation width."""
    training_bytes: int
    """Memory one update needs: the rollout and its flattened copy, per-step tensors, the reference pass's
    and a minibatch's activations, weights, gradients, optimizer and reference copies."""


def _size(n: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{int(n)} bytes"


def memory_limit() -> int:
    """MAX_TRAINING_BYTES, or 80% of this machine's memory where that is less."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return MAX_TRAINING_BYTES
    return min(MAX_TRAINING_BYTES, int(physical * 0.8)) if physical > 0 else MAX_TRAINING_BYTES


@functools.lru_cache(maxsize=256)
def _parameters(game: str, kwargs_key: tuple[tuple[str, Any], ...], hidden: int, layers: int, auto: bool,
                steer_hidden: int) -> int:
    import games
    import torch

    from league.policy import TeamPolicy

    info = games.get(game).info(**dict(kwargs_key))
    with torch.device("meta"):  # shapes only: no memory, no initialization work
        policy = TeamPolicy.for_game(info, hidden, layers, auto, steer_hidden)
    return sum(p.numel() for p in policy.parameters())


def check_resources(cfg: GRPOConfig, info: Any = None) -> Resources:
    """What training `cfg` needs (`Resources`), from its settings and the game's `info` (its agents,
    observation and action sizes; looked up when None); a network above MAX_PARAMETERS or an update above
    `memory_limit()` is a one-line ResourceError that names the settings and the limit. Nothing is allocated:
    call it at the edge, before anything is written (`GRPOConfig.validate` does)."""
    import games

    if info is None:
        try:
            info = games.get(cfg.game).info(**cfg.game_kwargs)
        except games.GameError as e:
            raise ConfigError(str(e), "game") from None
    kwargs_key = tuple(sorted((k, v) for k, v in cfg.game_kwargs.items()))
    parameters = _parameters(cfg.game, kwargs_key, cfg.hidden, cfg.layers, cfg.architecture == "auto",
                             cfg.steer_hidden)
    checkpoint = parameters * CHECKPOINT_BYTES_PER_PARAMETER
    if parameters > MAX_PARAMETERS:
        raise ResourceError(f"{cfg.game} with hidden {cfg.hidden}, layers {cfg.layers}, steer_hidden "
                            f"{cfg.steer_hidden}: the team network has {parameters:,} parameters (a "
                            f"{_size(checkpoint)} checkpoint per generation), above the limit of "
                            f"{MAX_PARAMETERS:,}: lower hidden, layers or steer_hidden", "hidden")
    M, G, n, D = cfg.groups, cfg.group_size, len(info.agents), info.max_obs_dim
    T = min(cfg.branch_every or info.horizon, info.horizon)  # steps per update
    agent_steps = M * G * T * n
    numbers = agent_steps * D
    width = cfg.hidden  # widest activation per agent-step: a net's hidden layer, or the per-target nets'
    if cfg.architecture == "auto":
        for targets in info.targets.values():
            width = max(width, (targets.count + 1) * cfg.steer_hidden)
    actions = max(info.n_actions.values())
    memory = (2 * numbers * 4  # the rollout and its flattened copy, float32
              + agent_steps * (48 + 4 * actions + 8 * width)  # per-step tensors, the reference pass
              + min(cfg.minibatch_size, agent_steps) * width * cfg.layers * 12  # a minibatch's graph
              + parameters * 4 * 6)  # weights, gradients, Adam's moments, the reference, a spare copy
    limit = memory_limit()
    if memory > limit:
        raise ResourceError(f"groups {M} x group_size {G} x {T} steps x {n} agents x {D} observations = "
                            f"{numbers:,} numbers per update (with hidden {cfg.hidden}, minibatch_size "
                            f"{cfg.minibatch_size}: about {_size(memory)} of memory to train), above the "
                            f"{_size(limit)} limit: lower groups, group_size, branch_every, hidden or "
                            f"minibatch_size", "groups")
    return Resources(parameters, checkpoint, numbers, memory)


def with_preset(data: dict[str, Any]) -> dict[str, Any]:
    """GRPO settings `data` laid over the preset its game declares (`GameSpec.preset`; settings in `data` win).
    The defaults above suit the choose-and-steer teams (simple_spread, the listener, simple_reference's
    move-and-say); pursuit and knights_archers_zombies say in their modules why they differ. A game that
    cannot be found is left to `validate`, which names it. A game that declares no preset and has no batched
    core gets `league.defaults.generic_preset`, chosen from its horizon and agents."""
    import games
    from league.defaults import generic_preset_for

    game = data.get("game", GRPOConfig.game)
    try:
        spec = games.get(game) if isinstance(game, str) else None
        preset = dict(spec.preset) if spec is not None else {}
        kwargs = data.get("game_kwargs") or {}
        if preset.get("other_play") and isinstance(kwargs, dict) and not spec.symmetries(**kwargs):
            del preset["other_play"]  # these options have no core to relabel on (continuous actions): plain training
    except games.GameError:
        preset = {}
    return {**preset, **generic_preset_for(data), **data}


def typed(cls: Any, data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`data` checked setting by setting against the annotations and limits of `cls` (GRPOConfig or
    LeagueConfig; ints accepted for floats, bools never for ints); a mismatch is a ConfigError naming
    `prefix` + the setting."""
    section = "grpo" if cls is GRPOConfig else "league"
    return {key: check_setting(section, key, value, prefix + key) for key, value in data.items()}


def game_table(table: Any) -> dict[str, Any]:
    """A `[game]` table (`name = "simple_spread"` or `"package.module:callable"`, then the game's options) as
    the `game` and `game_kwargs` settings of `[grpo]`."""
    table = _table(table, "game", "game", "a table ([game]: name = ..., then the game's options)")
    if "name" not in table:
        raise ConfigError("[game] needs name = the game (a name or package.module:callable)", "game")
    return {"game": table["name"], "game_kwargs": {k: v for k, v in table.items() if k != "name"}}


def check_game_options(spec: Any, kwargs: dict[str, Any], prefix: str = "game_kwargs") -> None:
    """A game's options, checked by the game itself (`GameSpec.resolve_kwargs`: known names, each of its
    default's type, within the game's bounds, playable together), as one ConfigError naming `prefix`."""
    import games

    try:
        spec.resolve_kwargs(kwargs)
    except games.GameError as e:
        raise ConfigError(f"{prefix}: {e}", "game_kwargs") from None


MAX_TOML_BYTES = 2**20
"""Largest config file read (a league's settings are a few hundred bytes)."""


def read_toml(path: str | Path) -> TomlDocument:
    """Reads a league TOML file and checks its shape and every value in it (`check_document`); a missing
    file, bad syntax, a table where a number belongs (or the reverse), a value of the wrong type or out of
    its limits is a one-line ConfigError that starts with the file. The result remembers the file
    (`TomlDocument.source`), so `LeagueConfig.from_toml` names it too."""
    try:
        raw = read_bounded(path, MAX_TOML_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (IsADirectoryError, NotADirectoryError, PermissionError) as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    except ValueError as e:  # a device, a pipe, too large
        raise ConfigError(f"cannot read config file {path}: {e}") from None
    try:
        data = tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {' '.join(str(e).split())}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    document = TomlDocument(check_document(data, str(path)))
    document.source = str(path)
    return document


DEFAULT_OPPONENTS = ("parent", "other_teams", "top", "least_played", "history:2", "random", "scripted")
TEAM_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")


@dataclass
class LeagueConfig:
    """A league: one game, K teams (lineages), each trained generation after generation. Every number's
    limits are in the LIMITS table; they are checked as the config is made."""

    name: str = "default"
    """League name; one database holds several leagues."""
    teams: int = 2
    """How many teams (lineages); they are named alpha, beta, gamma, ..."""
    generations: int = 3
    """Trained generations per team (g1..gN); g0, the untrained policy, is made first."""
    steps_per_generation: int = 400_000
    """Training budget of one generation in environment steps (ignored when minutes_per_generation is set)."""
    minutes_per_generation: float = 0.0
    """Training budget of one generation in minutes; 0 = use steps_per_generation."""
    seed: int = 0
    """League seed; team k trains with seed + k (so teams differ but the whole league is reproducible)."""
    match_seeds: int = 16
    """K: seeds per duplicate match (each seed is one rated result)."""
    opponents: list[str] = field(default_factory=lambda: list(DEFAULT_OPPONENTS))
    """Whom each new generation plays: parent, other_teams (their latest), top (best rated), least_played,
    history:K (K uniformly from older generations), random, scripted (when the game has one)."""
    grpo: GRPOConfig = field(default_factory=GRPOConfig)
    """GRPO settings shared by all teams (its `game` and `game_kwargs` are the league's game)."""
    team_grpo: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-team overrides of GRPO settings, e.g. {"beta": {"lr": 0.003}}."""

    def __post_init__(self) -> None:
        """Every value checked against its type and limits (LIMITS) as the config is made."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, check_setting("league", f.name, getattr(self, f.name)))

    def validate(self) -> LeagueConfig:
        """Checks every value, every team's GRPO settings (`GRPOConfig.validate`, resources included) and the
        disk its checkpoints will take; raises a one-line ConfigError naming the setting."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, check_setting("league", f.name, getattr(self, f.name)))
        for rule in self.opponents:
            name, _, count = rule.partition(":")
            if name not in {r.split(":")[0] for r in DEFAULT_OPPONENTS} or (count and name != "history") or (
                    count and not (count.isdigit() and int(count) in LIMITS["opponents.history"])):
                raise ConfigError(f"unknown opponent rule {shown(rule)}; rules: parent, other_teams, top, "
                                  f"least_played, history:K (K in {LIMITS['opponents.history']}), random, "
                                  f"scripted", "opponents")
        unknown = sorted(set(self.team_grpo) - set(self.team_names))
        if unknown:
            raise ConfigError(f"team_grpo names unknown team(s) {', '.join(_label(u) for u in unknown)}; "
                              f"teams are {', '.join(self.team_names)}", "team_grpo")
        for team in self.team_names:
            try:
                self.team_config(team)
            except ConfigError as e:
                if e.key in self.team_grpo.get(team, {}):
                    raise ConfigError(f"[team.{team}] {e}", "team_grpo") from None
                raise
        from league.ratings import MAX_RATED_PLAYERS

        players = self.teams * (self.generations + 1) + 2  # every generation, random and scripted
        if players > MAX_RATED_PLAYERS:
            raise ConfigError(f"{self.teams} team(s) x {self.generations + 1:,} generations = {players:,} players "
                              f"with the baselines, above the {MAX_RATED_PLAYERS:,} one rating fit handles: lower "
                              f"generations or teams", "generations")
        parameters = max(check_resources(self.team_config(t)).parameters for t in self.team_names)
        disk = parameters * CHECKPOINT_BYTES_PER_PARAMETER * self.teams * (self.generations + 1)
        if disk > MAX_CHECKPOINT_BYTES:
            raise ResourceError(f"{self.teams} team(s) x {self.generations + 1} generations x "
                                f"{_size(parameters * CHECKPOINT_BYTES_PER_PARAMETER)} checkpoints (a {parameters:,}-"
                                f"parameter network) = {_size(disk)} of checkpoints, above the "
                                f"{_size(MAX_CHECKPOINT_BYTES)} limit: lower generations, teams or the network "
                                f"size", "generations")
        return self

    # ---- derived values, computed here once
    @property
    def team_names(self) -> list[str]:
        """The teams' names, in order."""
        return list(TEAM_NAMES[: self.teams])

    def team_config(self, team: str) -> GRPOConfig:
        """The GRPO settings of one team: shared settings, its overrides, its own seed."""
        index = self.team_names.index(team)
        data = {**self.grpo.to_dict(), "seed": self.seed + index, **self.team_grpo.get(team, {})}
        return GRPOConfig.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the database and JSON output."""
        return dataclasses.asdict(self)

    @classmethod
    def from_toml(cls, data: dict[str, Any], **overrides: Any) -> LeagueConfig:
        """From a TOML document: `[league]` settings, `[grpo]` settings, `[team.<name>]` GRPO overrides;
        then command-line `overrides` (None values are ignored). Every value is checked (`check_document`,
        `validate`) before the config exists; an error message starts with where the value came from: the
        file (`read_toml`'s `TomlDocument.source`) or the command line."""
        source = getattr(data, "source", None)
        data = check_document(data, source)
        league = dict(data.get("league", {}))
        grpo = dict(data.get("grpo", {}))
        given: set[str] = set()  # settings the command line set
        for key, value in overrides.items():
            if value is None:
                continue
            option = "--league" if key == "name" else f"--{key.replace('_', '-')}"
            try:
                if key in ("game", "game_kwargs"):
                    grpo[key] = check_setting("grpo", key, value, option)
                else:
                    league[key] = check_setting("league", key, value, option)
            except ConfigError as e:
                raise _from(e, "command line") from None
            given.add(key)
        try:
            league = typed(cls, league, "league.")
            team_grpo = {team: dict(v) for team, v in data.get("team", {}).items()}
            return cls(**league, grpo=GRPOConfig.from_dict(with_preset(grpo)), team_grpo=team_grpo).validate()
        except ConfigError as e:
            raise _from(e, "command line" if e.key in given else source) from None


EXAMPLE_CONFIG = '''# coop-league configuration. Every setting is optional; shown with its default.
# Use with: league train --config league.toml   (command-line options win over the file)

[league]
name = "default"                # league name; one database holds several leagues
teams = 2                       # lineages, named alpha, beta, gamma, ...
generations = 3                 # trained generations per team (g1..gN); g0 is the untrained policy
steps_per_generation = 400000   # training budget of a generation in environment steps
minutes_per_generation = 0.0    # or a budget in minutes (0 = use steps_per_generation)
seed = 0                        # team k trains with seed + k
match_seeds = 16                # seeds per duplicate match
opponents = ["parent", "other_teams", "top", "least_played", "history:2", "random", "scripted"]

[grpo]
game = "simple_spread"          # see `league games`
game_kwargs = {}                # PettingZoo options, e.g. { N = 4, local_ratio = 0.5 }
# GRPO settings, commented out at their defaults: a setting you uncomment overrides the game's preset
# (the defaults suit simple_spread; the other games' presets change the rate, passes and group sizes).
{grpo}

# Per-team overrides of any [grpo] setting:
# [team.beta]
# lr = 0.003
'''


def field_docs(cls: Any) -> dict[str, str]:
    """Each field of a settings dataclass -> its docstring (the string under it), read from this module's
    source: the one place the settings are documented."""
    import ast
    import inspect

    source = inspect.getsource(cls)
    docs: dict[str, str] = {}
    body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
    for node, after in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr):
            docs[node.target.id] = " ".join(after.value.value.split())  # type: ignore[union-attr]
    return docs


def example_toml() -> str:
    """`league config --example`: a TOML file with every setting at its default, each with its doc."""
    docs = field_docs(GRPOConfig)
    lines = []
    for key, value in GRPOConfig().to_dict().items():
        if key in ("game", "game_kwargs", "seed"):  # the league's seed decides each team's
            continue
        toml_value = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
        lines.append(f"# {key + ' = ' + toml_value:<29} # {docs.get(key, '')}")
    return EXAMPLE_CONFIG.replace("{grpo}", "\n".join(lines))
