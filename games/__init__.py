"""Cooperative PettingZoo games behind one description each (`GameSpec`), with a registry.

    import games
    games.names()                              # ['knights_archers_zombies', 'pursuit', ...]
    spec = games.get("simple_spread")
    env = spec.make_env(render_mode=None, N=3) # the real PettingZoo ParallelEnv
    batch = spec.batch(256)                    # B games at once: reset(seeds) / step(actions)

This package imports nothing else of ours: training, storage and the viewer build on it, never the reverse.
"""

from __future__ import annotations

from games import knights_archers_zombies, pursuit, simple_reference, simple_speaker_listener, simple_spread
from games.spec import GameError, GameInfo, GameSpec, KeyMap

_REGISTRY: dict[str, GameSpec] = {
    m.SPEC.name: m.SPEC
    for m in (simple_spread, simple_speaker_listener, simple_reference, knights_archers_zombies, pursuit)
}


def names() -> list[str]:
    """Registered game names, sorted."""
    return sorted(_REGISTRY)


def get(name: str) -> GameSpec:
    """The game called `name`; an unknown name raises GameError listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise GameError(f"unknown game {name!r}; known games: {', '.join(names())}") from None


__all__ = ["GameError", "GameInfo", "GameSpec", "KeyMap", "get", "names"]
