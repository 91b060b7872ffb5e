"""Settings: one dataclass per concern, a docstring under every field. TOML in; JSON-able dicts out.

Derived values are computed in one marked place (`GRPOConfig.validate`), never scattered through the trainer.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting has a bad value or name; the message names the setting and what it accepts."""


@dataclass
class GRPOConfig:
    """How one team trains with GRPO (group-relative policy optimization, no critic)."""

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
    eps: float = 1e-6
    """Added to the group std before dividing."""
    device: str = "cpu"
    """'cpu', 'cuda' or 'auto' (cuda when available)."""
    threads: int = 0
    """torch CPU threads; 0 = torch's default (all cores; one per Ray worker). Set it (e.g. 1) for Ray workers to
    train byte-identical generations to the serial run: sums over other thread counts round differently."""

    def validate(self) -> GRPOConfig:
        """Checks every value; raises ConfigError naming the setting. Returns self for chaining."""
        import games

        try:
            games.get(self.game)
        except games.GameError as e:
            raise ConfigError(str(e)) from None
        positive = ("groups", "epochs", "minibatch_size", "hidden", "layers", "steer_hidden")
        for name in positive:
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not isinstance(self.group_size, int) or self.group_size < 2:
            raise ConfigError(f"group_size must be an integer >= 2 (a group of one has nothing to compare), "
                              f"got {self.group_size!r}")
        if self.architecture not in ("auto", "mlp"):
            raise ConfigError(f"architecture must be 'auto' or 'mlp', got {self.architecture!r}")
        if self.advantage not in ("episode", "step"):
            raise ConfigError(f"advantage must be 'episode' or 'step', got {self.advantage!r}")
        for name in ("lr", "max_grad_norm", "eps"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 <= self.partner_share <= 1:
            raise ConfigError(f"partner_share must be between 0 and 1, got {self.partner_share!r}")
        if self.partner_draw not in ("uniform", "prioritized"):
            raise ConfigError(f"partner_draw must be 'uniform' or 'prioritized', got {self.partner_draw!r}")
        if not isinstance(self.partner_pool, int) or self.partner_pool < 0:
            raise ConfigError(f"partner_pool must be an integer >= 0, got {self.partner_pool!r}")
        try:
            seats = len(games.get(self.game).info(**self.game_kwargs).agents)
        except games.GameError as e:
            raise ConfigError(str(e)) from None
        if not isinstance(self.partner_seats, int) or not 1 <= self.partner_seats < max(seats, 2):
            raise ConfigError(f"partner_seats must be an integer from 1 to {seats - 1} ({self.game} has {seats} "
                              f"seats and the team keeps at least one), got {self.partner_seats!r}")
        if not isinstance(self.branch_every, int) or self.branch_every < 0:
            raise ConfigError(f"branch_every must be an integer >= 0, got {self.branch_every!r}")
        if self.branch_every and not hasattr(games.get(self.game).batch(1, **self.game_kwargs), "clone_rows"):
            raise ConfigError(f"branch_every needs a batched core that can copy games (clone_rows); {self.game} "
                              f"with these options has none: set branch_every = 0")
        if not isinstance(self.lr_half_life, int) or self.lr_half_life < 0:
            raise ConfigError(f"lr_half_life must be an integer >= 0, got {self.lr_half_life!r}")
        if not 0 < self.gamma <= 1:
            raise ConfigError(f"gamma must be in (0, 1], got {self.gamma!r}")
        for name in ("clip_low", "clip_high"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name} must be between 0 and 1, got {getattr(self, name)!r}")
        for name in ("kl_coef", "entropy_coef"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ConfigError(f"device must be 'cpu', 'cuda' or 'auto', got {self.device!r}")
        if not isinstance(self.threads, int) or self.threads < 0:
            raise ConfigError(f"threads must be an integer >= 0, got {self.threads!r}")
        return self

    # ---- derived values, computed here once
    @property
    def num_envs(self) -> int:
        """M x G rollouts played together each update."""
        return self.groups * self.group_size

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for checkpoints, the database and JSON output."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GRPOConfig:
        """Builds and validates a config; unknown keys are a ConfigError listing the known ones."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**typed(cls(), data)).validate()


# Per-game starting points, applied under whatever the user sets. The defaults above suit the choose-and-steer
# teams (simple_spread, simple_speaker_listener's listener, simple_reference's move-and-say): one pass, a rate
# that halves. pursuit's 500-step episodes run on the batched core: 16 groups of 8 (a 64,000-step update) and a
# lower, constant rate went past the scripted baseline within a minute of training. knights_archers_zombies
# (choose-and-act team that sees the angle to each zombie and scores each zombie row with one shared net; up to
# 900-step episodes) branches every 64 steps, so siblings are compared from one mid-episode state: 64 groups of
# 8 (a 32,768-step update: with 32 groups greedy play swung between scores 0.3 and 0.9 from one evaluation to
# the next), gamma 0.98 (about a 50-step horizon, within a segment), lr 0.01 halving every 150 updates. With
# neither branching nor the angle inputs, greedy play stayed at random level whatever the rate and discount (the
# most likely action was "attack" everywhere); branching alone doubled the sampled return but greedy play stayed
# near random (3.7 after 4 min). Crediting a segment's playing rows with the mean return still to come (so a
# game lost mid-segment costs the rest of the episode; gamma 0.98, 0.995 or 1) changed nothing measurable.
PRESETS: dict[str, dict[str, Any]] = {
    "knights_archers_zombies": {"groups": 64, "group_size": 8, "minibatch_size": 8192, "branch_every": 64,
                                "gamma": 0.98, "lr": 0.01, "lr_half_life": 150},
    "pursuit": {"groups": 16, "group_size": 8, "minibatch_size": 8192, "gamma": 0.95, "lr": 0.003,
                "lr_half_life": 0},
}


def with_preset(data: dict[str, Any]) -> dict[str, Any]:
    """GRPO settings `data` laid over the preset of its game (settings in `data` win)."""
    return {**PRESETS.get(data.get("game", GRPOConfig.game), {}), **data}


def typed(defaults: Any, data: dict[str, Any]) -> dict[str, Any]:
    """`data` checked against the types of `defaults`' fields (ints accepted for floats, bools never for
    ints); a mismatch is a ConfigError naming the setting."""
    out = {}
    for key, value in data.items():
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{key} must be {expected.__name__}, got {value!r}")
        out[key] = value
    return out


def read_toml(path: str | Path) -> dict[str, Any]:
    """Reads a TOML file; a missing file or bad syntax is a ConfigError naming the file."""
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


DEFAULT_OPPONENTS = ("parent", "other_teams", "top", "least_played", "history:2", "random", "scripted")
TEAM_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")


@dataclass
class LeagueConfig:
    """A league: one game, K teams (lineages), each trained generation after generation."""

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

    def validate(self) -> LeagueConfig:
        """Checks every value; raises ConfigError naming the setting."""
        if not self.name or "/" in self.name:
            raise ConfigError(f"league name must be non-empty without '/', got {self.name!r}")
        if not isinstance(self.teams, int) or not 1 <= self.teams <= len(TEAM_NAMES):
            raise ConfigError(f"teams must be an integer from 1 to {len(TEAM_NAMES)}, got {self.teams!r}")
        if not isinstance(self.generations, int) or self.generations < 0:
            raise ConfigError(f"generations must be an integer >= 0, got {self.generations!r}")
        if not isinstance(self.steps_per_generation, int) or self.steps_per_generation < 1:
            raise ConfigError(f"steps_per_generation must be a positive integer, got {self.steps_per_generation!r}")
        if not self.minutes_per_generation >= 0:
            raise ConfigError(f"minutes_per_generation must be >= 0, got {self.minutes_per_generation!r}")
        if not isinstance(self.match_seeds, int) or not 1 <= self.match_seeds <= 10_000:
            raise ConfigError(f"match_seeds must be an integer from 1 to 10000, got {self.match_seeds!r}")
        for rule in self.opponents:
            name, _, count = str(rule).partition(":")
            if name not in {r.split(":")[0] for r in DEFAULT_OPPONENTS} or (count and not count.isdigit()) or (
                    count and name != "history"):
                raise ConfigError(f"unknown opponent rule {rule!r}; rules: parent, other_teams, top, "
                                  f"least_played, history:K, random, scripted")
        unknown = sorted(set(self.team_grpo) - set(self.team_names))
        if unknown:
            raise ConfigError(f"team_grpo names unknown team(s) {', '.join(unknown)}; "
                              f"teams are {', '.join(self.team_names)}")
        for team, overrides in self.team_grpo.items():
            if {"game", "game_kwargs"} & set(overrides):
                raise ConfigError(f"[team.{team}] cannot change the game or its options: all teams of a "
                                  f"league play the league's game")
        for team in self.team_names:
            self.team_config(team)
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
        then command-line `overrides` (None values are ignored)."""
        allowed = {"league", "grpo", "team"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
        league = dict(data.get("league", {}))
        known = {f.name for f in dataclasses.fields(cls)} - {"grpo", "team_grpo"}
        bad = sorted(set(league) - known)
        if bad:
            raise ConfigError(f"unknown league setting(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        grpo = dict(data.get("grpo", {}))
        for key, value in overrides.items():
            if value is None:
                continue
            if key in ("game", "game_kwargs"):
                grpo[key] = value
            else:
                league[key] = value
        league = typed(cls(), league)
        team_grpo = data.get("team", {})
        if not isinstance(team_grpo, dict) or not all(isinstance(v, dict) for v in team_grpo.values()):
            raise ConfigError("[team.<name>] tables must hold GRPO settings")
        return cls(**league, grpo=GRPOConfig.from_dict(with_preset(grpo)), team_grpo=team_grpo).validate()
