"""Replays: an episode as the game, its options, the seed, every step's actions of every seat and a checksum of
the env's state after each step; how it is stored (bytes in the `episodes` table) and re-simulated exactly.

Matches produce `Episode`s, the store keeps them and gives them back, and the viewer re-simulates them: one
type, encoded and decoded here only.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import games
from games.spec import GameError, close_env
from games.vector import acting, batchify, unbatchify

NO_ACTION = 255
"""Stored action of a seat whose agent is gone (never sent to the env)."""
NO_NUMBERS = np.float32("nan")
"""The same, in a game of Box actions: every number of the seat's row is nan."""


@dataclass
class Episode:
    """One played episode: enough to re-simulate it exactly."""

    seed: int
    seats: list[int]
    """Per agent (possible_agents order): 0 = player A's policy, 1 = player B's."""
    team_return: float
    actions: np.ndarray
    """`(T, n_agents)` uint8; NO_ACTION where the agent was gone. A game of Box actions: `(T, n_agents, d)` float32,
    the numbers the env got (clipped to the box, 0 past a role's own), nan where the agent was gone."""
    checksums: np.ndarray
    """`(T,)` uint32: crc32 of `env.state()` after each step."""
    game: str = ""
    """The game it was played in (registered name)."""
    game_kwargs: dict[str, Any] = field(default_factory=dict)
    """The game's options."""


def state_checksum(env: Any, obs: np.ndarray) -> int:
    """crc32 of the env's full state (`env.state()`), or, for an env without one, of the observations it just
    gave `(n, D)` (`games.vector.batchify`): equal states give equal checksums, a drift shows at the first step."""
    try:
        state = env.state()
    except (NotImplementedError, AttributeError):
        state = obs
    return zlib.crc32(np.ascontiguousarray(np.asarray(state)).tobytes())


def stored_actions(actions: np.ndarray, acting: np.ndarray, info: Any) -> np.ndarray:
    """What a replay keeps of the actions `(T, E, n)` (Box actions `(T, E, n, d)`) that seats `acting` `(T, E, n)`
    took: uint8 with NO_ACTION for the others; Box actions as float32 clipped to each box (what the env got, so
    re-simulating gives the same game), nan for the others."""
    if not info.continuous:
        return np.where(acting, actions, NO_ACTION).astype(np.uint8)
    clipped = np.clip(np.asarray(actions, dtype=np.float32), *info.box_bounds())
    return np.where(acting[..., None], clipped, NO_NUMBERS).astype(np.float32)


def present(action: np.ndarray) -> bool:
    """Whether a stored action of one seat was taken (not NO_ACTION, not a row of nan)."""
    action = np.asarray(action)
    return bool(action != NO_ACTION) if action.ndim == 0 else not bool(np.isnan(action).all())


def episode_columns(episode: Episode) -> dict[str, Any]:
    """The `episodes` columns of an episode (actions and checksums as raw bytes)."""
    actions = episode.actions if episode.actions.dtype == np.float32 else episode.actions.astype("uint8")
    return dict(seed=episode.seed, seats=json.dumps(episode.seats), team_return=episode.team_return,
                steps=len(episode.actions), game=episode.game, game_kwargs=json.dumps(episode.game_kwargs),
                actions=actions.tobytes(),
                checksums=episode.checksums.astype("uint32").tobytes())


class ReplayError(ValueError):
    """A stored episode that cannot be what was played (a row changed by hand or damaged); says which."""


def episode_from_columns(row: dict[str, Any]) -> Episode:
    """An `episodes` row (JSON columns already decoded) back as an `Episode`, checked first: a seed a game can
    take, seats of player A or B, one byte per seat and step (Box actions: d float32 numbers), actions the game
    has (numbers within each box, or nan for every number of a gone seat), a checksum per step."""
    where = f"stored episode {row.get('id')}"
    try:
        info = games.get(row["game"]).info(**dict(row["game_kwargs"] or {}))
        seats, steps, seed = [int(s) for s in row["seats"]], int(row["steps"]), int(row["seed"])
        if len(seats) != len(info.agents) or not set(seats) <= {0, 1}:
            raise ReplayError(f"{where}: seats {row['seats']} are not one 0 or 1 per agent of {row['game']}")
        if not 0 <= seed < 2**32 or not 1 <= steps <= info.horizon:
            raise ReplayError(f"{where}: seed {seed} or {steps} steps out of range for {row['game']}")
        width = 4 * max(info.n_actions.values()) if info.continuous else 1  # bytes per seat and step
        if len(row["actions"]) != steps * len(seats) * width or len(row["checksums"]) != 4 * steps:
            raise ReplayError(f"{where}: its actions or checksums are not {steps} steps long")
        if info.continuous:
            actions = np.frombuffer(row["actions"], dtype=np.float32).reshape(steps, len(seats), -1)
            low, high = info.box_bounds()  # (n, d)
            gone = np.isnan(actions).all(-1, keepdims=True)  # (T, n, 1)
            if not (gone | ((actions >= low) & (actions <= high))).all():
                raise ReplayError(f"{where}: an action is not a number within its box for {row['game']} (nan, "
                                  f"infinite or out of range)")
        else:
            actions = np.frombuffer(row["actions"], dtype=np.uint8).reshape(steps, len(seats))
            limits = np.array([info.n_actions[info.role_of(a)] for a in info.agents])  # (n,)
            if ((actions >= limits) & (actions != NO_ACTION)).any():
                raise ReplayError(f"{where}: an action is out of range for {row['game']}")
        return Episode(seed, seats, float(row["team_return"]), actions,
                       np.frombuffer(row["checksums"], dtype=np.uint32), row["game"], dict(row["game_kwargs"] or {}))
    except (TypeError, KeyError, AttributeError, OverflowError) as e:
        raise ReplayError(f"{where} is damaged: {type(e).__name__}: {e}") from None


def checked_replay(match: dict[str, Any], episodes: list[Episode],
                   league: dict[str, Any]) -> list[tuple[Episode, Episode]]:
    """A stored match's episodes (`Store.episodes`: each row already checked by `episode_from_columns`) as its
    replay: (left, right) pairs, one per seed (a lone episode, an old human match, faces itself). A match whose
    rows were changed outside coop-league is one ReplayError line: no episodes, not one per seed on each side, or
    an episode of another game or options than its `league`'s (replayed there, it would mean nothing)."""
    if not episodes:
        raise ReplayError(f"match {match['id']} has no stored episodes (deleted outside coop-league): nothing to "
                          f"replay")
    half = len(episodes) // 2
    pairs = list(zip(episodes[:half], episodes[half:])) if half else [(episodes[0], episodes[0])]
    if half and (len(episodes) != 2 * match["seeds"] or any(left.seed != right.seed for left, right in pairs)):
        raise ReplayError(f"match {match['id']} stores {len(episodes)} episodes for {match['seeds']} seed(s), not one "
                          f"per seed on each side: its rows were changed outside coop-league")
    for episode in episodes:
        if episode.game != league["game"] or episode.game_kwargs != league["game_kwargs"]:
            raise ReplayError(f"match {match['id']} stores an episode of {episode.game} {episode.game_kwargs}, not "
                              f"of its league's game: the row was changed")
    return pairs


def resimulate(episode: Episode) -> int | None:
    """Replays the stored actions in a fresh PettingZoo env; returns the first step whose state checksum
    differs (or where the episode ends early or runs on, or the game refuses the move), None when every step
    matches."""
    spec = games.get(episode.game)
    env = spec.make_env(**episode.game_kwargs)
    info = spec.info(**episode.game_kwargs)
    try:
        env.reset(seed=int(episode.seed))
        for t, row in enumerate(episode.actions):
            if not env.agents or not all(present(row[info.agents.index(a)]) for a in acting(env)):
                return t  # ended early, or a seat to move has no stored action
            try:  # a turn-based game refuses a move that is not legal (a changed row): the replay differs there
                obs, *_ = env.step(unbatchify(row, info.agents, env.agents, info.action_nvec, info.action_boxes))
            except GameError:
                return t
            if state_checksum(env, batchify(obs, info.agents, info.max_obs_dim)) != int(episode.checksums[t]):
                return t
        return None if not env.agents else len(episode.actions)
    finally:
        close_env(env)
