"""`league config --example`: a TOML file with every setting at its default, each with its doc, rendered from the
settings' own docstrings (`league.config`), so the example can never drift from the code."""

from __future__ import annotations

import json
from typing import Any

from league.config import GRPOConfig

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
