"""Players of a league and the policies behind them: generations (from verified checkpoints), the `random`
and `scripted` baselines, and humans (who play through the viewer). Also: playing and storing one match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import games
from games.scripted import scripted_policy
from league.checkpoints import checkpoint_bytes, payload_from_bytes, policy_from_payload
from league.evaluate import EVAL_SEED, random_policy
from league.matches import MatchError, MatchResult, Policy, duplicate_match, match_seeds, mixed_match
from league.store import Store

BASELINES = ("random", "scripted")
MATCH_SEED_BASE = EVAL_SEED + 1_000_000
"""Match seeds start here (held out from training) and move on by MAX_MATCH_SEEDS with every match."""
MAX_MATCH_SEEDS = 10_000


@dataclass(frozen=True)
class Seat:
    """A player's policy as plain data that can be sent to another process and rebuilt there: the kind
    (`generation`, `random`, `scripted`) and, for a generation, its checkpoint bytes with their sha256,
    checked where the policy is rebuilt."""

    kind: str
    seed: int = 0
    checkpoint: bytes = b""
    sha256: str = ""
    name: str = ""
    """The generation's name, for error messages."""


def player_seat(store: Store, league: dict[str, Any], name: str, seed: int = 0) -> tuple[dict[str, Any], Seat]:
    """The stored player called `name` and its policy as a `Seat`; checks everything a match needs first."""
    game = league["game"]
    if name in BASELINES:
        if name == "scripted" and scripted_policy(game) is None:
            raise MatchError(f"{game} has no scripted baseline; players: generations, random")
        return store.ensure_player(league["id"], name, name), Seat(name, seed)
    if name.startswith("human:"):
        raise MatchError(f"{name} plays through the viewer (`league play`), not in automatic matches")
    generation = store.generation(name, league["name"])
    if generation["league_id"] != league["id"]:
        raise MatchError(f"{generation['name']} belongs to league {generation['league']!r}, not {league['name']!r}")
    seat = Seat("generation", seed, checkpoint_bytes(generation["checkpoint"], generation["sha256"]),
                generation["sha256"], generation["name"])
    return store.player(league["id"], generation["name"]), seat


def seat_policy(game: str, game_kwargs: dict[str, Any], seat: Seat) -> Policy:
    """The policy behind a seat, rebuilt in this process (a generation's bytes are hash-checked first)."""
    if seat.kind == "random":
        return random_policy(games.get(game).info(**game_kwargs), seat.seed)
    if seat.kind == "scripted":
        return scripted_policy(game)
    policy = policy_from_payload(payload_from_bytes(seat.checkpoint, seat.sha256, seat.name))
    return policy.numpy_policy(deterministic=True)


def player_policy(store: Store, league: dict[str, Any], name: str, seed: int = 0) -> tuple[dict[str, Any], Policy]:
    """The stored player called `name` and its policy. Generations load with their sha256 checked."""
    player, seat = player_seat(store, league, name, seed)
    return player, seat_policy(league["game"], league["game_kwargs"], seat)


def next_seeds(store: Store, league: dict[str, Any], count: int) -> list[int]:
    """Fresh held-out seeds for the league's next match (each match gets its own stretch)."""
    return seeds_after(len(store.matches(league["id"])), count)


def seeds_after(played: int, count: int) -> list[int]:
    """`count` held-out seeds for the match that follows `played` matches."""
    if not 1 <= count <= MAX_MATCH_SEEDS:
        raise MatchError(f"seeds must be between 1 and {MAX_MATCH_SEEDS}, got {count}")
    return match_seeds(MATCH_SEED_BASE + played * MAX_MATCH_SEEDS, count)


@dataclass(frozen=True)
class MatchJob:
    """Everything needed to play one match anywhere (this process or a Ray worker): plain data only."""

    game: str
    game_kwargs: dict[str, Any]
    seat_a: Seat
    seat_b: Seat
    seeds: list[int]
    mixed: bool = False


def prepare_match(store: Store, league: dict[str, Any], name_a: str, name_b: str, seeds: int, played: int,
                  mixed: bool = False) -> tuple[dict[str, Any], dict[str, Any], MatchJob]:
    """Both players resolved (checkpoints found) and the seeds of the match that follows `played` matches."""
    chosen = seeds_after(played, seeds)
    player_a, seat_a = player_seat(store, league, name_a, seed=played)
    player_b, seat_b = player_seat(store, league, name_b, seed=played + 1)
    return player_a, player_b, MatchJob(league["game"], dict(league["game_kwargs"]), seat_a, seat_b, chosen, mixed)


def play_job(job: MatchJob) -> MatchResult:
    """Plays a prepared match in this process; pure: the same job always gives the same result."""
    run = mixed_match if job.mixed else duplicate_match
    policy_a = seat_policy(job.game, job.game_kwargs, job.seat_a)
    policy_b = seat_policy(job.game, job.game_kwargs, job.seat_b)
    return run(job.game, job.game_kwargs, policy_a, policy_b, job.seeds)


def store_match(store: Store, league: dict[str, Any], player_a: dict[str, Any], player_b: dict[str, Any],
                result: MatchResult) -> dict[str, Any]:
    """Commits a played match with its replays (one transaction)."""
    return store.add_match(league["id"], result.kind, player_a["id"], player_b["id"], result, league["game"],
                           league["game_kwargs"])


def play_match(store: Store, league: dict[str, Any], name_a: str, name_b: str, seeds: int = 16,
               mixed: bool = False) -> dict[str, Any]:
    """Plays a duplicate (or mixed-team) match between two players on fresh held-out seeds and stores it
    with its replays. Both players are resolved (and checkpoints verified) before anything is played."""
    player_a, player_b, job = prepare_match(store, league, name_a, name_b, seeds, len(store.matches(league["id"])),
                                            mixed)
    return store_match(store, league, player_a, player_b, play_job(job))
