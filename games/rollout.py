"""Whole episodes played with a fixed policy: evaluation, matches, partner scores, conventions and benchmarks all
play them this way (PufferLib's single `rollout`), with different policies. Training plays its own segments
(`league.grpo.play_segment`): it samples with log-probs, fills buffers and may stop mid-episode to branch.

A batch is anything with `reset(seeds) -> obs`, `step(actions) -> (obs, rewards, done)` and an `alive` mask:
a game's batched core or `games.vector.VectorBatch` over real PettingZoo envs (`GameSpec.batch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from games.spec import GameInfo

Policy = Callable[[np.ndarray, GameInfo], np.ndarray]
"""How anything plays (a trained team, a scripted plan, a partner style, random keys): observations
`(B, n, D)` of every seat and the game's info -> an action for every seat `(B, n)`. A caller that gives a
policy only some seats takes only those seats' actions."""


def per_seat(seats: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """`seats` `(..., n)` (a mask or an index per seat) with an axis of 1 added for each axis `actions` has past
    its own: `(..., n, 1)` against a game of Box actions `(..., n, d)`, itself against `(..., n)`. What lets one
    `np.where` or `take_along_axis` seat discrete actions and Box numbers alike."""
    return seats.reshape(*seats.shape, *[1] * (actions.ndim - seats.ndim))


@dataclass
class Rollout:
    """What one batch of episodes produced; the per-step arrays only when recorded."""

    returns: np.ndarray
    """`(B,)` team return of each episode: the game's team reward, summed once per step while it played."""
    env_steps: int
    """Steps of games still playing, summed over the batch (an env step = every agent acting once)."""
    last_obs: np.ndarray
    """`(B, n, D)` the observations after the last step."""
    observations: np.ndarray | None = None
    """`(T, B, n, D)` before each step (`record=True`)."""
    actions: np.ndarray | None = None
    """`(T, B, n)` every seat's action as the policy gave it (`record=True`)."""
    acting: np.ndarray | None = None
    """`(T, B, n)` the agent was present and its game still playing (`record=True`)."""
    after: np.ndarray | None = None
    """`(T, B)` what `after_step` returned after each step."""


def rollout(batch: Any, seeds: Sequence[int], policy: Policy, info: GameInfo,
            team_reward: Callable[[np.ndarray], np.ndarray], *, record: bool = False,
            after_step: Callable[[np.ndarray], np.ndarray] | None = None) -> Rollout:
    """Plays one episode per seed on `batch` until every game has ended. The team reward of a step is counted
    only for games that were still playing before it. `after_step(done_before) -> (B,)` runs after every
    step (matches use it to checksum each env's state)."""
    obs = batch.reset(list(seeds))
    returns = np.zeros(len(seeds))
    done = np.zeros(len(seeds), dtype=bool)
    seen, acted, acting, after = [], [], [], []
    env_steps = 0
    while not done.all():
        actions = np.asarray(policy(obs, info))  # (B, n)
        if record:
            seen.append(obs.copy())  # a core may hand back the same buffer every step
            acted.append(actions.copy())
            acting.append(batch.alive & ~done[:, None])
        env_steps += int((~done).sum())
        obs, rewards, now_done = batch.step(actions)
        returns += np.where(done, 0.0, team_reward(rewards))
        if after_step is not None:
            after.append(after_step(done))
        done = now_done
    return Rollout(returns, env_steps, obs,
                   np.stack(seen) if record else None, np.stack(acted) if record else None,
                   np.stack(acting) if record else None, np.stack(after) if after_step is not None else None)
