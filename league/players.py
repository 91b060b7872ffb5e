"""Players of a league and the policies behind them: generations (from verified checkpoints), the `random`
and `scripted` baselines, and humans (who play through the viewer). Resolving a name into a player and its
policy is all this module does; matches are played in `league.matches`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import games
from games.rollout import Policy
from league.checkpoints import check_identity, payload_from_bytes, policy_from_payload, read_checkpoint
from league.evaluate import random_policy
from league.store import Store

BASELINES = ("random", "scripted")


class PlayerError(ValueError):
    """A name is not a player that can play as asked (no scripted baseline, a human, another league's)."""


@dataclass(frozen=True)
class PortablePolicy:
    """A player's policy as plain data that can be sent to another process and rebuilt there: the kind
    (`generation`, `random`, `scripted`) and, for a generation, its checkpoint bytes with their sha256,
    checked where the policy is rebuilt."""

    kind: str
    seed: int = 0
    checkpoint: bytes = b""
    sha256: str = ""
    name: str = ""
    """The generation's name, for error messages."""


def portable_player(store: Store, league: dict[str, Any], name: str,
                    seed: int = 0) -> tuple[dict[str, Any], PortablePolicy]:
    """The stored player called `name` and its policy as plain data; checks everything a match needs first."""
    game = league["game"]
    if name in BASELINES:
        if name == "scripted" and games.get(game).scripted is None:
            raise PlayerError(f"{game} has no scripted baseline; players: generations, random")
        return store.ensure_player(league["id"], name, name), PortablePolicy(name, seed)
    if name.startswith("human:"):
        raise PlayerError(f"{name} plays through the viewer (`league play`), not in automatic matches")
    generation = store.generation(name, league["name"])
    if generation["league_id"] != league["id"]:
        raise PlayerError(f"{generation['name']} belongs to league {generation['league']!r}, not {league['name']!r}")
    portable = PortablePolicy("generation", seed, read_checkpoint(generation["checkpoint"], generation["sha256"]),
                              generation["sha256"], generation["name"])
    return store.player(league["id"], generation["name"]), portable


def rebuild_policy(game: str, game_kwargs: dict[str, Any], portable: PortablePolicy) -> Policy:
    """The policy behind a `PortablePolicy`, rebuilt in this process (a generation's bytes are hash-checked
    first)."""
    if portable.kind == "random":
        return random_policy(games.get(game).info(**game_kwargs), portable.seed)
    if portable.kind == "scripted":
        return games.get(game).scripted
    payload = payload_from_bytes(portable.checkpoint, portable.sha256, portable.name)
    check_identity(payload, portable.name)
    policy = policy_from_payload(payload, game, game_kwargs, portable.name)
    return policy.numpy_policy(deterministic=True)


def player_policy(store: Store, league: dict[str, Any], name: str, seed: int = 0) -> tuple[dict[str, Any], Policy]:
    """The stored player called `name` and its policy. Generations load with their sha256 checked."""
    player, portable = portable_player(store, league, name, seed)
    return player, rebuild_policy(league["game"], league["game_kwargs"], portable)
