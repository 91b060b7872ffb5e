"""Independent evaluation: team returns of any policy on held-out seeds, played in the real PettingZoo env.

A policy here is `obs (B, n, D) -> actions (B, n)` over the padded arrays of `games`: trained teams
(`TeamPolicy.numpy_policy`), scripted baselines and random play all look the same.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import games
from games.rollout import Policy, rollout
from games.turns import uniform_moves
from games.vector import VectorBatch

# Held-out start seeds: training draws seeds below 2**30 (see grpo.train), evaluation from here up.
EVAL_SEED = 2**30 + 7


def eval_seeds(count: int) -> list[int]:
    """The `count` held-out seeds every evaluation uses, so returns are comparable across policies."""
    return list(range(EVAL_SEED, EVAL_SEED + count))


def random_policy(info: Any, seed: int = 0) -> Policy:
    """Uniform random actions from a seeded generator (the 0 of the normalized score)."""
    rng = np.random.default_rng(seed)

    def policy(obs: np.ndarray, _: Any = None) -> np.ndarray:
        return uniform_moves(rng, obs, info)  # legal moves only, in a game with masks

    return policy


def play(game: str, policy: Policy, seeds: Sequence[int], game_kwargs: dict | None = None,
         reference_env: bool = True) -> np.ndarray:
    """Team return of one episode per seed, `(S,)`. `reference_env=True` plays the PettingZoo env itself
    (what the league reports); False uses `spec.batch`, the fast core where there is one."""
    spec = games.get(game)
    kwargs = game_kwargs or {}
    info = spec.info(**kwargs)
    batch = VectorBatch(spec, len(seeds), **kwargs) if reference_env else spec.batch(len(seeds), **kwargs)
    try:
        return rollout(batch, seeds, policy, info, spec.team_reward).returns
    finally:
        batch.close()


def mean_interval(values: np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its 95% interval (normal approximation, 1.96 standard errors)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float(values.mean()), float("nan")
    return float(values.mean()), float(1.96 * values.std(ddof=1) / np.sqrt(len(values)))
