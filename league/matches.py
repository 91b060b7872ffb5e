"""Matches between players of a cooperative game, played in the real PettingZoo env, with exact replays.

There is no opponent on the field, so a match compares teams on identical conditions:
- duplicate: both teams play the same K seeded episodes; on each seed the higher team return wins, and a
  difference of at most DRAW_TOLERANCE is a draw. Paired seeds cancel the luck of the start state.
- mixed (cross-play): the two players' agents share one team, in both seatings (A in the even seats and B in
  the odd ones, then swapped), on the same seeds. Not rated; it fills the generation x partner matrix.

Every episode is kept as a replay: the seed, every step's actions for every seat, and a crc32 of the env's
`state()` after each step. `resimulate` replays the actions in a fresh env and checks every checksum.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

import games
from games.spec import close_env
from games.vector import VectorBatch, unbatchify

DRAW_TOLERANCE = 1e-3
"""Team returns closer than this are a draw: identical play gives identical returns, and anything smaller is
floating-point noise, not skill."""
NO_ACTION = 255
"""Stored action of a seat whose agent is gone (never sent to the env)."""

Policy = Callable[[np.ndarray, Any], np.ndarray]


class MatchError(ValueError):
    """A match cannot be played as asked (bad seed count, unknown player); the message says why."""


@dataclass
class Episode:
    """One played episode: enough to re-simulate it exactly."""

    seed: int
    seats: list[int]
    """Per agent (possible_agents order): 0 = player A's policy, 1 = player B's."""
    team_return: float
    actions: np.ndarray
    """`(T, n_agents)` uint8; NO_ACTION where the agent was gone."""
    checksums: np.ndarray
    """`(T,)` uint32: crc32 of `env.state()` after each step."""


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


def state_checksum(env: Any) -> int:
    """crc32 of the env's full state: equal states give equal checksums, a drift shows at the first step."""
    return zlib.crc32(np.ascontiguousarray(np.asarray(env.state())).tobytes())


def play_episodes(game: str, game_kwargs: dict[str, Any], policies: Sequence[Policy], seats: Sequence[Sequence[int]],
                  seeds: Sequence[int]) -> list[Episode]:
    """Plays one episode per (seed, seating) in the PettingZoo env; agent k of episode e acts with
    `policies[seats[e][k]]`. Every policy sees every observation; a seat takes only its owner's action."""
    spec = games.get(game)
    batch = VectorBatch(spec, len(seeds), **game_kwargs)
    info = batch.info
    seat_of = np.array(seats)  # (E, n)
    try:
        obs = batch.reset(list(seeds))
        returns = np.zeros(len(seeds))
        actions_log: list[np.ndarray] = []
        checks: list[np.ndarray] = []
        done = np.zeros(len(seeds), dtype=bool)
        while not done.all():
            proposals = np.stack([np.asarray(p(obs, info)) for p in policies])  # (P, E, n)
            actions = np.take_along_axis(proposals, seat_of[None], axis=0)[0]  # (E, n)
            acting = batch.alive & ~done[:, None]
            actions_log.append(np.where(acting, actions, NO_ACTION).astype(np.uint8))
            obs, rewards, now_done = batch.step(actions)
            returns += np.where(done, 0.0, spec.team_reward(rewards))
            checks.append(np.array([0 if done[e] else state_checksum(env) for e, env in enumerate(batch.envs)],
                                   dtype=np.uint32))
            done = now_done
    finally:
        batch.close()
    actions_all, checks_all = np.stack(actions_log), np.stack(checks)  # (T, E, n), (T, E)
    episodes = []
    for e, seed in enumerate(seeds):
        steps = int((actions_all[:, e] != NO_ACTION).any(-1).sum())
        episodes.append(Episode(int(seed), [int(x) for x in seat_of[e]], float(returns[e]),
                                actions_all[:steps, e].copy(), checks_all[:steps, e].copy()))
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


def resimulate(game: str, game_kwargs: dict[str, Any], seed: int, actions: np.ndarray,
               checksums: np.ndarray) -> int | None:
    """Replays stored actions in a fresh PettingZoo env; returns the first step whose state checksum
    differs (or where the episode ends early or runs on), None when every step matches."""
    env = games.get(game).make_env(**game_kwargs)
    agents = env.possible_agents
    try:
        env.reset(seed=int(seed))
        for t, row in enumerate(actions):
            if not env.agents:
                return t
            env.step(unbatchify(row, agents, env.agents))
            if state_checksum(env) != int(checksums[t]):
                return t
        return None if not env.agents else len(actions)
    finally:
        close_env(env)


def match_seeds(first: int, count: int) -> list[int]:
    """The seeds of a match: a fresh stretch of `count` held-out-range seeds starting at `first`."""
    if count < 1:
        raise MatchError(f"seeds must be >= 1, got {count}")
    return list(range(first, first + count))
