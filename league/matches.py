"""Matches between players of a cooperative game, played in the real PettingZoo env, with exact replays.

There is no opponent on the field, so a match compares teams on identical conditions:
- duplicate: both teams play the same K seeded episodes; on each seed the higher team return wins, and a
  difference of at most DRAW_TOLERANCE is a draw. Paired seeds cancel the luck of the start state.
- mixed (cross-play): the two players' agents share one team, in both seatings (A in the even seats and B in
  the odd ones, then swapped), on the same seeds. Not rated; it fills the generation x partner matrix.

Every episode is kept as a replay (`league.replays`): the seed, every step's actions for every seat, and a crc32
of the env's `state()` after each step.

Playing a league's match: both players resolved (`league.players`) into a `MatchJob` of plain data, played
anywhere (`play_job`: this process or a Ray worker), then stored by the one writer (`store_match`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

import games
from games.rollout import Policy, per_seat, rollout
from games.vector import VectorBatch
from league.evaluate import EVAL_SEED
from league.players import PortablePolicy, portable_player, rebuild_policy
from league.replays import Episode, state_checksum, stored_actions
from league.store import Store

DRAW_TOLERANCE = 1e-3
"""Team returns closer than this are a draw: identical play gives identical returns, and anything smaller is
floating-point noise, not skill."""
MATCH_SEED_BASE = EVAL_SEED + 1_000_000
"""Match seeds start here (held out from training) and move on by MAX_MATCH_SEEDS with every match."""
MAX_MATCH_SEEDS = 10_000


class MatchError(ValueError):
    """A match cannot be played as asked (bad seed count, a one-seat game mixed); the message says why."""


@dataclass
class MatchResult:
    """Per-seed outcome of a match; `score_a` counts draws as half."""

    kind: str
    seeds: list[int]
    returns_a: list[float]
    returns_b: list[float]
    outcomes: list[float | None]
    """Score of A per seed (1, 0.5, 0); None in mixed matches (not rated)."""
    episodes: list[Episode] = field(default_factory=list)

    @property
    def score_a(self) -> float:
        """Points of A (draws half) over the rated seeds."""
        return float(sum(o for o in self.outcomes if o is not None))


def play_episodes(game: str, game_kwargs: dict[str, Any], policies: Sequence[Policy], seats: Sequence[Sequence[int]],
                  seeds: Sequence[int]) -> list[Episode]:
    """Plays one episode per (seed, seating) in the PettingZoo env; agent k of episode e acts with
    `policies[seats[e][k]]`. Every policy sees every observation; a seat takes only its owner's action."""
    spec = games.get(game)
    batch = VectorBatch(spec, len(seeds), **game_kwargs)
    seat_of = np.array(seats)  # (E, n)

    def seated(obs: np.ndarray, info: Any) -> np.ndarray:
        proposals = np.stack([np.asarray(p(obs, info)) for p in policies])  # (P, E, n), Box actions (P, E, n, d)
        return np.take_along_axis(proposals, per_seat(seat_of[None], proposals), axis=0)[0]  # (E, n[, d])

    def checksums(done: np.ndarray) -> np.ndarray:  # (E,) crc32 of each env still playing
        return np.array([0 if done[e] else state_checksum(env, batch.last_obs[e])
                         for e, env in enumerate(batch.envs)], dtype=np.uint32)

    try:
        played = rollout(batch, seeds, seated, batch.info, spec.team_reward, record=True, after_step=checksums)
    finally:
        batch.close()
    actions_all = stored_actions(played.actions, played.acting, batch.info)  # (T, E, n[, d])
    episodes = []
    for e, seed in enumerate(seeds):
        steps = int(played.acting[:, e].any(-1).sum())
        episodes.append(Episode(int(seed), [int(x) for x in seat_of[e]], float(played.returns[e]),
                                actions_all[:steps, e].copy(), played.after[:steps, e].copy(), game,
                                dict(game_kwargs)))
    return episodes


def duplicate_match(game: str, game_kwargs: dict[str, Any], policy_a: Policy, policy_b: Policy,
                    seeds: Sequence[int]) -> MatchResult:
    """Both teams play every seed; per seed the higher team return wins (within DRAW_TOLERANCE: a draw)."""
    if len(seeds) < 1:
        raise MatchError("a match needs at least one seed")
    n = len(games.get(game).info(**game_kwargs).agents)
    both = list(seeds) + list(seeds)
    seats = [[0] * n] * len(seeds) + [[1] * n] * len(seeds)
    episodes = play_episodes(game, game_kwargs, [policy_a, policy_b], seats, both)
    ra = [e.team_return for e in episodes[: len(seeds)]]
    rb = [e.team_return for e in episodes[len(seeds):]]
    outcomes: list[float | None] = [outcome(x, y) for x, y in zip(ra, rb)]
    return MatchResult("duplicate", list(seeds), ra, rb, outcomes, episodes)


def mixed_match(game: str, game_kwargs: dict[str, Any], policy_a: Policy, policy_b: Policy,
                seeds: Sequence[int]) -> MatchResult:
    """A's and B's agents in one team, both seatings, same seeds. returns_a: A in the even seats."""
    if len(seeds) < 1:
        raise MatchError("a match needs at least one seed")
    n = len(games.get(game).info(**game_kwargs).agents)
    if n < 2:
        raise MatchError(f"{game} has one seat: nothing to mix")
    even = [k % 2 for k in range(n)]  # seat 0 -> A, seat 1 -> B, ...
    swapped = [1 - s for s in even]
    both = list(seeds) + list(seeds)
    episodes = play_episodes(game, game_kwargs, [policy_a, policy_b], [even] * len(seeds) + [swapped] * len(seeds),
                             both)
    ra = [e.team_return for e in episodes[: len(seeds)]]
    rb = [e.team_return for e in episodes[len(seeds):]]
    return MatchResult("mixed", list(seeds), ra, rb, [None] * len(seeds), episodes)


def outcome(return_a: float, return_b: float) -> float:
    """Score of A on one seed: 1 win, 0.5 draw (within DRAW_TOLERANCE), 0 loss."""
    if abs(return_a - return_b) <= DRAW_TOLERANCE:
        return 0.5
    return 1.0 if return_a > return_b else 0.0


def match_seeds(first: int, count: int) -> list[int]:
    """The seeds of a match: a fresh stretch of `count` held-out-range seeds starting at `first`."""
    if count < 1:
        raise MatchError(f"seeds must be >= 1, got {count}")
    return list(range(first, first + count))


def seeds_after(played: int, count: int) -> list[int]:
    """`count` held-out seeds for the match that follows `played` matches."""
    if not 1 <= count <= MAX_MATCH_SEEDS:
        raise MatchError(f"seeds must be between 1 and {MAX_MATCH_SEEDS}, got {count}")
    return match_seeds(MATCH_SEED_BASE + played * MAX_MATCH_SEEDS, count)


def next_seeds(store: Store, league: dict[str, Any], count: int) -> list[int]:
    """Fresh held-out seeds for the league's next match (each match gets its own stretch)."""
    return seeds_after(len(store.matches(league["id"])), count)


@dataclass(frozen=True)
class MatchJob:
    """Everything needed to play one match anywhere (this process or a Ray worker): plain data only."""

    game: str
    game_kwargs: dict[str, Any]
    policy_a: PortablePolicy
    policy_b: PortablePolicy
    seeds: list[int]
    mixed: bool = False


def prepare_match(store: Store, league: dict[str, Any], name_a: str, name_b: str, seeds: int, played: int,
                  mixed: bool = False) -> tuple[dict[str, Any], dict[str, Any], MatchJob]:
    """Both players resolved (checkpoints found) and the seeds of the match that follows `played` matches."""
    chosen = seeds_after(played, seeds)
    player_a, policy_a = portable_player(store, league, name_a, seed=played)
    player_b, policy_b = portable_player(store, league, name_b, seed=played + 1)
    return player_a, player_b, MatchJob(league["game"], dict(league["game_kwargs"]), policy_a, policy_b, chosen,
                                        mixed)


def play_job(job: MatchJob) -> MatchResult:
    """Plays a prepared match in this process; pure: the same job always gives the same result."""
    run = mixed_match if job.mixed else duplicate_match
    policy_a = rebuild_policy(job.game, job.game_kwargs, job.policy_a)
    policy_b = rebuild_policy(job.game, job.game_kwargs, job.policy_b)
    return run(job.game, job.game_kwargs, policy_a, policy_b, job.seeds)


def store_match(store: Store, league: dict[str, Any], player_a: dict[str, Any], player_b: dict[str, Any],
                result: MatchResult) -> dict[str, Any]:
    """Commits a played match with its replays (one transaction)."""
    return store.add_match(league["id"], result.kind, player_a["id"], player_b["id"], result)


def play_match(store: Store, league: dict[str, Any], name_a: str, name_b: str, seeds: int = 16,
               mixed: bool = False) -> dict[str, Any]:
    """Plays a duplicate (or mixed-team) match between two players on fresh held-out seeds and stores it
    with its replays. Both players are resolved (and checkpoints verified) before anything is played."""
    player_a, player_b, job = prepare_match(store, league, name_a, name_b, seeds, len(store.matches(league["id"])),
                                            mixed)
    return store_match(store, league, player_a, player_b, play_job(job))
