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
    gamma: float = 1.0
    """Discount of the step form's reward-to-go; below 1 it cuts the variance that far-future steps (where
    sibling rollouts have long diverged) add to each action's credit."""
    scale_by_std: bool = True
    """Divide by the group's std (GRPO). False keeps only the mean baseline (Dr. GRPO, arXiv:2503.20783)."""
    epochs: int = 4
    """Passes over each batch of rollouts."""
    minibatch_size: int = 8192
    """Agent-steps per gradient step."""
    lr: float = 3e-3
    """Adam learning rate."""
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
    hidden: int = 128
    """Width of each role network's hidden layers."""
    layers: int = 2
    """Hidden layers per role network."""
    eps: float = 1e-6
    """Added to the group std before dividing."""
    device: str = "cpu"
    """'cpu', 'cuda' or 'auto' (cuda when available)."""
    threads: int = 0
    """torch CPU threads; 0 = torch's default (all cores)."""

    def validate(self) -> GRPOConfig:
        """Checks every value; raises ConfigError naming the setting. Returns self for chaining."""
        import games

        try:
            games.get(self.game)
        except games.GameError as e:
            raise ConfigError(str(e)) from None
        positive = ("groups", "epochs", "minibatch_size", "hidden", "layers")
        for name in positive:
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not isinstance(self.group_size, int) or self.group_size < 2:
            raise ConfigError(f"group_size must be an integer >= 2 (a group of one has nothing to compare), "
                              f"got {self.group_size!r}")
        if self.advantage not in ("episode", "step"):
            raise ConfigError(f"advantage must be 'episode' or 'step', got {self.advantage!r}")
        for name in ("lr", "max_grad_norm", "eps"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)!r}")
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
        defaults = cls()
        for key, value in data.items():
            expected = type(getattr(defaults, key))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ConfigError(f"{key} must be {expected.__name__}, got {value!r}")
        return cls(**data).validate()


def read_toml(path: str | Path) -> dict[str, Any]:
    """Reads a TOML file; a missing file or bad syntax is a ConfigError naming the file."""
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
