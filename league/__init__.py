"""The league: GRPO training of cooperative teams, generations, matches, ratings and storage.

Public API:
    from league import load_team
    team = load_team("checkpoints/default/alpha/g3-3f1c2a9b7e04.pt")  # `league show` prints the path
    actions = team.act(observations, deterministic=True)   # PettingZoo dict in, dict out
"""

from __future__ import annotations

from typing import Any


def load_team(path: Any, expected_sha256: str | None = None) -> Any:
    """Loads a trained team from a checkpoint (weights only, never pickled code); see `league.checkpoints`."""
    from league.checkpoints import load_team as _load_team  # torch loads only when a team is asked for

    return _load_team(path, expected_sha256)


__all__ = ["load_team"]
