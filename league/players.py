"""Players of a league and the policies behind them: generations (from verified checkpoints), the `random`
and `scripted` baselines, and humans (who play through the viewer). Also: playing and storing one match."""

from __future__ import annotations

from typing import Any

import games
from games.scripted import scripted_policy
from league.checkpoints import load_checkpoint, policy_from_payload
from league.evaluate import EVAL_SEED, random_policy
from league.matches import MatchError, Policy, duplicate_match, match_seeds, mixed_match
from league.store import Store

BASELINES = ("random", "scripted")
MATCH_SEED_BASE = EVAL_SEED + 1_000_000
"""Match seeds start here (held out from training) and move on by MAX_MATCH_SEEDS with every match."""
MAX_MATCH_SEEDS = 10_000


def player_policy(store: Store, league: dict[str, Any], name: str, seed: int = 0) -> tuple[dict[str, Any], Policy]:
    """The stored player called `name` and its policy. Generations load with their sha256 checked."""
    game = league["game"]
    info = games.get(game).info(**league["game_kwargs"])
    if name == "random":
        return store.ensure_player(league["id"], "random", "random"), random_policy(info, seed)
    if name == "scripted":
        policy = scripted_policy(game)
        if policy is None:
            raise MatchError(f"{game} has no scripted baseline; players: generations, random")
        return store.ensure_player(league["id"], "scripted", "scripted"), policy
    if name.startswith("human:"):
        raise MatchError(f"{name} plays through the viewer (`league play`), not in automatic matches")
    generation = store.generation(name, league["name"])
    if generation["league_id"] != league["id"]:
        raise MatchError(f"{generation['name']} belongs to league {generation['league']!r}, not {league['name']!r}")
    policy = policy_from_payload(load_checkpoint(generation["checkpoint"], generation["sha256"]))
    return store.player(league["id"], generation["name"]), policy.numpy_policy(deterministic=True)


def next_seeds(store: Store, league: dict[str, Any], count: int) -> list[int]:
    """Fresh held-out seeds for the league's next match (each match gets its own stretch)."""
    return seeds_after(len(store.matches(league["id"])), count)


def seeds_after(played: int, count: int) -> list[int]:
    """`count` held-out seeds for the match that follows `played` matches."""
    if not 1 <= count <= MAX_MATCH_SEEDS:
        raise MatchError(f"seeds must be between 1 and {MAX_MATCH_SEEDS}, got {count}")
    return match_seeds(MATCH_SEED_BASE + played * MAX_MATCH_SEEDS, count)


def play_match(store: Store, league: dict[str, Any], name_a: str, name_b: str, seeds: int = 16,
               mixed: bool = False) -> dict[str, Any]:
    """Plays a duplicate (or mixed-team) match between two players on fresh held-out seeds and stores it
    with its replays. Both players are resolved (and checkpoints verified) before anything is played."""
    count = len(store.matches(league["id"]))
    chosen = seeds_after(count, seeds)
    player_a, policy_a = player_policy(store, league, name_a, seed=count)
    player_b, policy_b = player_policy(store, league, name_b, seed=count + 1)
    run = mixed_match if mixed else duplicate_match
    result = run(league["game"], league["game_kwargs"], policy_a, policy_b, chosen)
    return store.add_match(league["id"], result.kind, player_a["id"], player_b["id"], result, league["game"],
                           league["game_kwargs"])
