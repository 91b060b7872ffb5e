"""The league: GRPO training of cooperative teams, generations, matches, ratings and storage.

Data flow: games -> league (GRPO training -> generations + checkpoints -> matches -> results in SQLite -> Elo) -> viewer

Public API:
    from league import load_team
    team = load_team("checkpoints/default/alpha/g3-3f1c2a9b7e04.pt")  # `league show` prints the path
    actions = team.act(observations, deterministic=True)   # PettingZoo dict in, dict out
"""

from __future__ import annotations

import os
from typing import Any

# Matrix products that give the same bits on one thread and on two (MKL's strict reproducibility mode), so training
# may drop to one thread while another program holds a core without changing its result (league/cores.py). MKL
# reads this at its first product, hence here, before any league module runs torch.
MKL_STRICT = "AUTO,STRICT"
os.environ.setdefault("MKL_CBWR", MKL_STRICT)


def load_team(path: Any, expected_sha256: str | None = None) -> Any:
    """Loads a trained team from a checkpoint (weights only, never pickled code); see `league.checkpoints`."""
    from league.checkpoints import load_team as _load_team  # torch loads only when a team is asked for

    return _load_team(path, expected_sha256)


__all__ = ["load_team"]
