"""What every setting may be: the limits of each number (LIMITS), the choices of each text (CHOICES), and how one
value is checked against them, as one ConfigError line that names the setting, what it accepts and what it got.

Why a module of its own: `league.config` reads settings first (the dataclasses, their docs); the rules a value
must follow live here, in one table, so a new setting's bounds are one line and every message reads the same.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """A setting has a bad value, type or name; the message is one line that names the setting, what it
    accepts and, where known, where the value came from (a file, the command line). `key`: the setting at
    fault, where there is one."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


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


# Every number must be finite and in its range; an int setting never takes a bool or a float. The upper bounds are
# far above anything this project trains (CPU-sized MLPs); what the settings add up to (network size, rollout
# memory, checkpoint disk) is checked as a whole by `league.resources.check_resources`.
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
WHY = {"grpo.group_size": "a group of one has nothing to compare"}
"""Why a limit is what it is, where the message should say so."""
MAX_TEXT = 100
"""Most characters of a name or any other text setting (league name, game name, opponent rules). A game option's
text is the game's to check (`games.spec.MAX_OPTION_TEXT`)."""
MAX_OPPONENT_RULES = 64
"""Most rules in `opponents`."""
LEAGUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A league's name: it is a folder under --checkpoints, so never '.', '..', a path, or a line break."""

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


def label(text: Any) -> str:
    """A key as it reads in a message: itself when short and printable, else quoted and cut."""
    return text if isinstance(text, str) and len(text) <= 40 and text.isprintable() and text else shown(text)


def got(value: Any) -> str:
    """What a value is, for 'must be ..., got <this>': its TOML kind and the value."""
    kind = next((k for t, k in _KINDS.items() if type(value) is t), None)
    kind = kind or next((k for t, k in _KINDS.items() if isinstance(value, t)), f"a {type(value).__name__}")
    return f"{kind} {shown(value)}"


def check_number(value: Any, name: str, key: str, limit: Range, integer: bool, why: str = "") -> Any:
    """An int (never a bool) or a finite float (ints accepted, returned as float) within `limit`."""
    expect = f"int in {limit}" if integer else f"a finite float in {limit}"
    expect += f" ({why})" if why else ""
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise ConfigError(f"{name} must be {expect}, got {got(value)}", key)
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


def check_text(value: Any, name: str, key: str, what: str = "str") -> str:
    """A string of 1 to MAX_TEXT characters without control characters (messages stay one line)."""
    expect = f"{what} of 1 to {MAX_TEXT} printable characters"
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be {expect}, got {got(value)}", key)
    if not 1 <= len(value) <= MAX_TEXT or not value.isprintable():
        raise ConfigError(f"{name} must be {expect}, got {shown(value)}"
                          + (f" ({len(value)} characters)" if len(value) > MAX_TEXT else ""), key)
    return value


def check_option_value(value: Any, name: str, key: str) -> Any:
    """A game option as TOML gives it: a scalar, floats finite. Its type, bounds and length are the game's to
    check (`games.spec.GameSpec.resolve_kwargs`), which `GRPOConfig.validate` always asks."""
    if isinstance(value, (bool, int, str)) or value is None:  # None: options whose default is None
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite float, got {shown(value)}", key)
        return value
    raise ConfigError(f"{name} must be a boolean, number or string, got {got(value)}", key)


def check_table(value: Any, name: str, key: str, what: str = "a table") -> dict[str, Any]:
    """A table (dict) with text keys."""
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be {what}, got {got(value)}", key)
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise ConfigError(f"{name} must be {what} with text keys, got key {got(bad[0])}", key)
    return value
