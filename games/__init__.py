"""Cooperative PettingZoo games behind one description each (`GameSpec`), found by name or entry point.

    import games
    games.names()                              # ['knights_archers_zombies', 'pursuit', ...]
    spec = games.get("simple_spread")
    spec = games.get("my_games.grid:parallel_env")  # any callable returning a ParallelEnv, or a GameSpec
    env = spec.make_env(render_mode=None, N=3) # the real PettingZoo ParallelEnv
    batch = spec.batch(256)                    # B games at once: reset(seeds) / step(actions)

Every game with a name, the five built in included, is registered the same way: an entry point in the
`coop_league.games` group of an installed package (this project's pyproject.toml lists its five) naming a
`GameSpec` or a callable that returns a ParallelEnv. A game is also named directly by its entry point,
`package.module:attribute` (Gymnasium's convention); the current directory is searched last for the module.

This package imports nothing else of ours: training, storage and the viewer build on it, never the reverse.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.metadata
import os
import sys
from typing import Any

from games.spec import GameError, GameInfo, GameSpec, KeyMap, one_line

ENTRY_POINTS = "coop_league.games"
"""Entry-point group under which installed packages register games by name."""


@functools.lru_cache(maxsize=1)
def _registered() -> dict[str, importlib.metadata.EntryPoint]:
    return {e.name: e for e in importlib.metadata.entry_points(group=ENTRY_POINTS)}


def names() -> list[str]:
    """Registered game names, sorted."""
    return sorted(_registered())


def is_entry_point(name: str) -> bool:
    """`package.module:attribute`, the form that names a game without registering it."""
    module, sep, attribute = name.partition(":")
    return bool(sep and module and attribute) and all(p.isidentifier() for p in module.split(".") + attribute.split("."))


@functools.lru_cache(maxsize=64)
def get(name: str) -> GameSpec:
    """The game called `name` (registered) or named by entry point; anything else raises one GameError line
    (an unknown name lists the known ones)."""
    if not isinstance(name, str) or not name:
        raise GameError(f"a game is a name or package.module:attribute, got {name!r}")
    if name in _registered():
        return as_spec(name, _load(name, _registered()[name].load))
    if ":" in name:
        if not is_entry_point(name):
            raise GameError(f"{name!r} is not an entry point of the form package.module:attribute")
        return as_spec(name, _load(name, lambda: load_entry_point(name)))
    raise GameError(f"unknown game {name!r}; known games: {', '.join(names())} (or package.module:attribute)")


def load_entry_point(name: str) -> Any:
    """Imports `package.module` and returns `attribute` (dots go into the module's objects). A module not found
    on the path is looked for in the current directory last, as `python -m` would find it."""
    module_name, _, attribute = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name.split(".")[0] or os.getcwd() in sys.path:
            raise
        sys.path.append(os.getcwd())
        module = importlib.import_module(module_name)
    value = module
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def _load(name: str, load: Any) -> Any:
    try:
        return load()
    except GameError:
        raise
    except AttributeError as e:
        raise GameError(f"game {name!r}: the module has no {name.partition(':')[2] or 'such attribute'} ({one_line(e)})") from e
    except Exception as e:  # an import error, or anything the module raises while importing
        raise GameError(f"game {name!r} cannot be imported: {type(e).__name__}: {one_line(e)}") from e


def as_spec(name: str, value: Any) -> GameSpec:
    """A loaded entry point as a GameSpec named `name`: a GameSpec as it is, a callable as the env it makes."""
    if isinstance(value, GameSpec):
        return value if value.name == name else dataclasses.replace(value, name=name)
    if callable(value):
        summary = ((getattr(value, "__doc__", None) or "").strip().splitlines() or [""])[0]
        return GameSpec(name=name, env_fn=value, summary=summary)
    raise GameError(f"game {name!r} is a {type(value).__name__}: name a GameSpec or a callable that returns a "
                    f"PettingZoo ParallelEnv")


__all__ = ["GameError", "GameInfo", "GameSpec", "KeyMap", "get", "names"]
