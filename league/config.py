"""Settings: one dataclass per concern, a docstring under every field. TOML in; JSON-able dicts out.

Each value is checked once, where it is set (a config's `__setattr__`: as it is made, or when a field changes),
against its type and limits (league/limits.py). A TOML file's shape, its tables and the settings each may hold, is
checked as it is read (`check_document`). `validate` checks only what depends on the game or on several settings
and what they add up to (league/resources.py), once per config. A bad value is one ConfigError line that names the
setting, its limit, the value and, where known, where it came from (the file or the command line).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from league.files import read_bounded
from league.limits import (CHOICES, LEAGUE_NAME, LIMITS, MAX_OPPONENT_RULES, MAX_TEXT, WHY, ConfigError, check_number,
                           check_option_value, check_table, check_text, got, label, shown)
from league.resources import ResourceError, check_league_disk, check_resources, network_parameters

__all__ = ["ConfigError", "GRPOConfig", "LeagueConfig", "ResourceError", "read_toml", "with_preset"]

DEFAULT_OPPONENTS = ("parent", "other_teams", "top", "least_played", "history:2", "random", "scripted")
TEAM_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")


@dataclass
class GRPOConfig:
    """How one team trains with GRPO (group-relative policy optimization, no critic). Every number's limits
    are in league/limits.py (LIMITS; texts: CHOICES); a value is checked where it is set."""

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
    (knights_archers_zombies' zombies) a choose-a-target-then-act mixture (`ChooseAndAct`), roles whose moves a
    reader describes (Hanabi's) a score-each-move network (`ScoreMoves`), the rest a plain MLP. 'mlp': a plain
    MLP for every role. Continuing from a checkpoint keeps the checkpoint's architecture."""
    steer_hidden: int = 32
    """Width of the steering (acting, move-scoring) net's hidden layers (choose-and-steer, choose-and-act and
    score-moves roles only)."""
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

    def __setattr__(self, name: str, value: Any) -> None:
        """A value is checked where it is set, as the config is made or a field changed, and only there: against
        its type and limits (league/limits.py)."""
        object.__setattr__(self, name, check_setting("grpo", name, value))

    def validate(self) -> GRPOConfig:
        """Checks what depends on the game (its options, seats, batched core) and what the settings add up to
        (`check_resources`), once for the settings as they are (any change since, even inside `game_kwargs`, is
        validated again); raises a one-line ConfigError naming the setting. Returns self for chaining."""
        import games

        settings = repr(self.to_dict())  # what is validated; kept, so the trainer's call after the league's is free
        if self.__dict__.get("_validated") == settings:
            return self
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
                proven_symmetries(spec, **self.game_kwargs)  # a relabelling that is not a symmetry is refused
            except SymmetryError as e:
                raise ConfigError(f"other_play: {e}", "other_play") from None
        if self.branch_every and not hasattr(spec.batch(1, **self.game_kwargs), "clone_rows"):
            raise ConfigError(f"branch_every needs a batched core that can copy games (clone_rows); {self.game} "
                              f"with these options has none: set branch_every = 0", "branch_every")
        check_resources(self, info)
        object.__setattr__(self, "_validated", settings)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for checkpoints, the database and JSON output."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None, prefix: str = "") -> GRPOConfig:
        """Builds and validates a config from `[grpo]` settings (a TOML table, a stored row); unknown keys
        are a ConfigError listing the known ones. Errors name a setting as `prefix` + its key ("grpo.lr") and
        start with `source` (a file, "stored team alpha")."""
        try:
            table = check_table(data, "grpo", "", "a table of GRPO settings")
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = sorted(set(table) - known)
            if unknown:
                raise ConfigError(f"unknown setting(s) {', '.join(shown(k) for k in unknown)}; known: "
                                  f"{', '.join(sorted(known))}", "grpo")
            try:
                return cls(**table).validate()
            except ConfigError as e:
                raise named(e, prefix + (e.key or "")) if prefix else e from None
        except ConfigError as e:
            raise _from(e, source) from None


@dataclass
class LeagueConfig:
    """A league: one game, K teams (lineages), each trained generation after generation. Every number's
    limits are in league/limits.py (LIMITS); a value is checked where it is set."""

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

    def __setattr__(self, name: str, value: Any) -> None:
        """A value is checked where it is set (league/limits.py); `[team.<name>]` tables by their shape here, their
        values when the team's config is made (`validate`)."""
        object.__setattr__(self, name, check_setting("league", name, value))

    def validate(self) -> LeagueConfig:
        """Checks the opponent rules, the team names of `team_grpo`, each team's GRPO settings (made once here:
        `team_config`; `GRPOConfig.validate`, resources included), the players one rating fit handles and the disk
        the checkpoints will take; raises a one-line ConfigError naming the setting. Returns self. Done once for the
        settings as they are (a change since, even inside `grpo` or `team_grpo`, is validated again)."""
        settings = repr(self.to_dict())
        if self.__dict__.get("_validated") == settings:
            return self
        for rule in self.opponents:
            name, _, count = rule.partition(":")
            if name not in {r.split(":")[0] for r in DEFAULT_OPPONENTS} or (count and name != "history") or (
                    count and not (count.isdigit() and int(count) in LIMITS["opponents.history"])):
                raise ConfigError(f"unknown opponent rule {shown(rule)}; rules: parent, other_teams, top, "
                                  f"least_played, history:K (K in {LIMITS['opponents.history']}), random, "
                                  f"scripted", "opponents")
        unknown = sorted(set(self.team_grpo) - set(self.team_names))
        if unknown:
            raise ConfigError(f"team_grpo names unknown team(s) {', '.join(label(u) for u in unknown)}; "
                              f"teams are {', '.join(self.team_names)}", "team_grpo")
        teams = {team: self._make_team(team) for team in self.team_names}
        from league.ratings import MAX_RATED_PLAYERS

        players = self.teams * (self.generations + 1) + 2  # every generation, random and scripted
        if players > MAX_RATED_PLAYERS:
            raise ConfigError(f"{self.teams} team(s) x {self.generations + 1:,} generations = {players:,} players "
                              f"with the baselines, above the {MAX_RATED_PLAYERS:,} one rating fit handles: lower "
                              f"generations or teams", "generations")
        check_league_disk(self.teams, self.generations, max(network_parameters(cfg) for cfg in teams.values()))
        object.__setattr__(self, "_teams", teams)
        object.__setattr__(self, "_validated", settings)
        return self

    def _make_team(self, team: str) -> GRPOConfig:
        """One team's GRPO settings: a copy of the shared ones (checked when they were set), its own seed and its
        overrides, each checked as it is set; then validated. An error names the setting where it was given:
        `team.<name>.<key>` (an override) or `grpo.<key>`."""
        overrides = self.team_grpo.get(team, {})
        cfg = copy.deepcopy(self.grpo)
        for key, value in {"seed": self.seed + self.team_names.index(team), **overrides}.items():
            try:
                setattr(cfg, key, value)
            except ConfigError as e:
                raise named(e, f"team.{team}.{key}") from None
        try:
            return cfg.validate()
        except ConfigError as e:
            if e.key in overrides:
                raise ConfigError(f"[team.{team}] {e}", "team_grpo") from None
            raise named(e, f"grpo.{e.key}") from None

    # ---- derived values, computed here once
    @property
    def team_names(self) -> list[str]:
        """The teams' names, in order."""
        return list(TEAM_NAMES[: self.teams])

    def team_config(self, team: str) -> GRPOConfig:
        """The GRPO settings of one team: shared settings, its overrides, its own seed. Made once, when the league
        is validated, and shared by the manager and the workers (who get it with the config): do not change it."""
        return self.validate()._teams[team]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the database and JSON output."""
        return dataclasses.asdict(self)

    @classmethod
    def from_toml(cls, data: dict[str, Any], **overrides: Any) -> LeagueConfig:
        """From a TOML document: `[league]` settings, `[grpo]` settings, `[team.<name>]` GRPO overrides;
        then command-line `overrides` (None values are ignored). The document's shape is checked as it is read
        (`check_document`), each value as the configs are made, the rest by `validate`, all before the config is
        returned; an error names the setting as written (`grpo.lr`, `--teams`) and starts with where the value
        came from: the file (`read_toml`'s `TomlDocument.source`) or the command line."""
        source = getattr(data, "source", None)
        data = check_document(data, source)
        league = dict(data.get("league", {}))
        grpo = dict(data.get("grpo", {}))
        given: dict[str, str] = {}  # settings the command line set -> its option
        for key, value in overrides.items():
            if value is not None:
                (grpo if key in ("game", "game_kwargs") else league)[key] = value
                given[key] = "--league" if key == "name" else f"--{key.replace('_', '-')}"
        team_grpo = {team: dict(v) for team, v in data.get("team", {}).items()}
        try:
            try:
                shared = GRPOConfig(**with_preset(grpo))
            except ConfigError as e:
                raise named(e, given.get(e.key) or f"grpo.{e.key}") from None
            try:
                config = cls(**league, grpo=shared, team_grpo=team_grpo)
            except ConfigError as e:
                raise named(e, given.get(e.key) or f"league.{e.key}") from None
            return config.validate()
        except ConfigError as e:
            raise _from(e, "command line" if e.key in given else source) from None


# ---------------------------------------------------------------- reading settings: one value, one document
@functools.cache
def _hints(section: str) -> dict[str, Any]:
    cls = {"grpo": GRPOConfig, "league": LeagueConfig}[section]
    return typing.get_type_hints(cls)


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
        return check_number(value, name, key, LIMITS[path], hint is int, WHY.get(path, ""))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {got(value)}", key)
        return value
    if hint is str and path in CHOICES:
        options = ", ".join(repr(c) for c in CHOICES[path])
        if not isinstance(value, str) or value not in CHOICES[path]:
            raise ConfigError(f"{name} must be one of {options}, got {got(value)}", key)
        return value
    if hint is str:
        value = check_text(value, name, key)
        if path == "league.name" and not LEAGUE_NAME.fullmatch(value):
            raise ConfigError(f"{name} must be 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or "
                              f"digit (it names a folder of checkpoints), got {shown(value)}", key)
        return value
    if hint == dict[str, Any]:  # game_kwargs
        table = check_table(value, name, key, "a table of game options")
        return {k: check_option_value(v, f"{name}.{k}", key) for k, v in table.items()}
    if hint == list[str]:  # opponents
        if not isinstance(value, list):
            raise ConfigError(f"{name} must be an array of rule names, got {got(value)}", key)
        if len(value) > MAX_OPPONENT_RULES:
            raise ConfigError(f"{name} must hold at most {MAX_OPPONENT_RULES} rules, got {len(value)}", key)
        return [check_text(v, f"{name}[{i}]", key, "a rule name") for i, v in enumerate(value)]
    if hint is GRPOConfig:
        if not isinstance(value, GRPOConfig):
            raise ConfigError(f"{name} must be a GRPOConfig, got {got(value)}", key)
        return value
    if hint == dict[str, dict[str, Any]]:  # team_grpo: their values are checked when each team's config is made
        table = check_table(value, name, key, "a table of [team.<name>] tables")
        return {team: check_team_table(team, overrides, f"{name}.{label(team)}") for team, overrides in table.items()}
    raise TypeError(f"no check for {path}: {hint}")  # a new field needs a rule here


def named(error: ConfigError, name: str) -> ConfigError:
    """`error` with the setting it starts with (its key, as in "lr must be ...") said as `name` ("grpo.lr",
    "--teams", "team.beta.lr"): where the value was written. Other messages are left as they are."""
    text, key = str(error), error.key or ""
    if key and re.match(rf"{re.escape(key)}( must |[.:\[])", text):
        return type(error)(name + text[len(key):], error.key)
    return error


def check_team_table(team: str, overrides: Any, name: str) -> dict[str, Any]:
    """A `[team.<name>]` table's shape: known GRPO settings, not the game (all teams of a league play the league's
    game). Its values are checked when the team's config is made (`LeagueConfig.validate`)."""
    table = check_table(overrides, name, "team_grpo", "a table of GRPO settings")
    if {"game", "game_kwargs"} & set(table):
        raise ConfigError(f"[team.{label(team)}] cannot change the game or its options: all teams of a league "
                          f"play the league's game", "team_grpo")
    known = _hints("grpo")
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(shown(k) for k in unknown)} in [team.{label(team)}]; "
                          f"known: {', '.join(sorted(known))}", "team_grpo")
    return table


def check_document(data: Any, source: str | None = None) -> dict[str, Any]:
    """The shape of a league document (TOML: `[league]`, `[grpo]`, `[team.<name>]` and `[game]` tables, the
    settings each may hold); its values are checked as the configs are made (`LeagueConfig.from_toml`). A
    ConfigError's message starts with `source` (the file) when given. Returns `data`, `[game]` as settings."""
    try:
        check_table(data, "the document", "", "a table")
        allowed = ("league", "grpo", "team", "game")
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ConfigError(f"unknown table(s) {', '.join(shown(k) for k in unknown)}; known: "
                              f"{', '.join(sorted(allowed))} (settings go in [league], [grpo] or [team.<name>], "
                              f"the game in [game])")
        if "game" in data:
            grpo = check_table(data.get("grpo", {}), "grpo", "grpo", "a table ([grpo])")
            if "game" in grpo or "game_kwargs" in grpo:
                raise ConfigError("name the game once: in [game] (name = ..., then its options) or as game and "
                                  "game_kwargs in [grpo], not both", "game")
            data = {**{k: v for k, v in data.items() if k != "game"}, "grpo": {**grpo, **game_table(data["game"])}}
        for section in ("league", "grpo"):
            table = check_table(data.get(section, {}), section, section, f"a table ([{section}])")
            known = sorted(f for f in _hints(section) if f not in ("grpo", "team_grpo"))
            bad = sorted(set(table) - set(known))
            if bad:
                kind = "league setting(s)" if section == "league" else "setting(s)"
                raise ConfigError(f"unknown {kind} {', '.join(shown(k) for k in bad)} in [{section}]; known: "
                                  f"{', '.join(known)}", section)
        teams = check_table(data.get("team", {}), "team", "team_grpo", "a table of [team.<name>] tables")
        for team, overrides in teams.items():
            check_team_table(team, overrides, f"team.{label(team)}")
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


BOX_LR = 0.002
"""The learning rate of a team of Box actions where its game's preset names none: the defaults' 0.005 moves a
Gaussian's means by more than its spread in one pass (continuous simple_spread, 5 minutes: a sixth of the samples
clipped and greedy -6.06 at 3 minutes; at 0.002, 2-6% clipped and -5.96, then -5.83 at 5 minutes)."""


def with_preset(data: dict[str, Any]) -> dict[str, Any]:
    """GRPO settings `data` laid over the preset its game declares (`GameSpec.preset`; settings in `data` win).
    The defaults above suit the choose-and-steer teams (simple_spread, the listener, simple_reference's
    move-and-say); pursuit and knights_archers_zombies say in their modules why they differ. A game that
    cannot be found is left to `validate`, which names it. A game that declares no preset and has no batched
    core gets `league.defaults.generic_preset`, chosen from its horizon and agents. A game of Box actions learns
    at `BOX_LR` unless its preset says otherwise."""
    import games
    from league.defaults import generic_preset_for

    game = data.get("game", GRPOConfig.game)
    try:  # the values are not checked yet (they are as the config is made): a bad one gets no preset
        spec = games.get(game) if isinstance(game, str) and len(game) <= MAX_TEXT else None
        preset = dict(spec.preset) if spec is not None else {}
        kwargs = data.get("game_kwargs") or {}
        if preset.get("other_play") and isinstance(kwargs, dict) and not spec.symmetries(**kwargs):
            del preset["other_play"]  # no symmetries for these options (no core, or Box actions): plain training
        if spec is not None and isinstance(kwargs, dict) and spec.info(**kwargs).continuous:
            preset.setdefault("lr", BOX_LR)
    except (games.GameError, TypeError):
        preset = {}
    return {**preset, **generic_preset_for(data), **data}


def game_table(table: Any) -> dict[str, Any]:
    """A `[game]` table (`name = "simple_spread"` or `"package.module:callable"`, then the game's options) as
    the `game` and `game_kwargs` settings of `[grpo]`."""
    table = check_table(table, "game", "game", "a table ([game]: name = ..., then the game's options)")
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
    """Reads a league TOML file and checks its shape (`check_document`); a missing file, bad syntax, an unknown
    table or setting, a table where a table of settings belongs is a one-line ConfigError that starts with the
    file. Its values are checked as the configs are made; the result remembers the file (`TomlDocument.source`),
    so `LeagueConfig.from_toml` names it then too."""
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
