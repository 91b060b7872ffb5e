"""`league bench ...`: throughput and learning-speed measurements, always as ratios to a reference measured
in the same run on the same machine (absolute numbers drift between laptops; ratios mostly do not)."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

import games


def _rate(run_once: Callable[[], int], seconds: float) -> float:
    """Calls `run_once` (which returns the env steps it made) until `seconds` pass; env steps per second."""
    run_once()  # warm-up: first calls pay for allocation and caches
    steps, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        steps += run_once()
    return steps / elapsed


def reference_rate(game: str, seconds: float = 2.0, seed: int = 0, **kwargs: Any) -> float:
    """Env steps/s of the plain PettingZoo loop (one env, every agent acts once per step, random actions)."""
    spec = games.get(game)
    env = spec.make_env(**kwargs)
    rng = np.random.default_rng(seed)
    episode = iter(range(seed, 2**31))

    def one_episode() -> int:
        env.reset(seed=next(episode))
        n = 0
        while env.agents:
            env.step({a: int(rng.integers(env.action_space(a).n)) for a in env.agents})
            n += 1
        return n

    try:
        return _rate(one_episode, seconds)
    finally:
        env.close()


def batch_rate(game: str, num_envs: int, seconds: float = 2.0, seed: int = 0, **kwargs: Any) -> float:
    """Env steps/s of `spec.batch(num_envs)`: whole episodes, random actions, counting only live envs."""
    spec = games.get(game)
    batch = spec.batch(num_envs, **kwargs)
    n_actions = np.array([spec.info(**kwargs).n_actions[games.spec.role_of(a)] for a in batch.agents])
    rng = np.random.default_rng(seed)
    episode = iter(range(seed, 2**31, num_envs))

    def one_round() -> int:
        batch.reset(np.arange(num_envs) + next(episode))
        done, n = np.zeros(num_envs, dtype=bool), 0
        while not done.all():
            n += int((~done).sum())
            _, _, done = batch.step(rng.integers(0, n_actions, (num_envs, len(n_actions))))
        return n

    try:
        return _rate(one_round, seconds)
    finally:
        batch.close()


def bench_env(game: str, batch_sizes: tuple[int, ...] = (1, 64, 1024, 4096), seconds: float = 2.0) -> dict[str, Any]:
    """Reference loop vs batched runner at several batch sizes, in one run; ratios to the reference."""
    spec = games.get(game)
    reference = reference_rate(game, seconds)
    rows = []
    for b in batch_sizes:
        rate = batch_rate(game, b, seconds)
        rows.append({"num_envs": b, "steps_per_s": rate, "ratio": rate / reference})
    kind = type(spec.batch(1)).__name__
    return {
        "game": game,
        "batch_kind": kind,
        "reference_steps_per_s": reference,
        "batched": rows,
        "best_ratio": max(r["ratio"] for r in rows),
    }
