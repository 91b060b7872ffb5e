"""Proof that a batched core is the game: `assert_core_matches_env` steps a game's core and its real PettingZoo
envs side by side over whole episodes, with the same seeds and actions, and checks every observation, reward,
ending and agent's presence. The project's own parity tests use it; a game author proves a core with it:

    from games.parity import assert_core_matches_env
    report = assert_core_matches_env(games.get("my_pkg.grid:SPEC"), seeds=range(200))
    assert report.steps > 0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from games.spec import GameInfo, GameSpec
from games.turns import uniform_moves
from games.vector import VectorBatch


@dataclass
class ParityReport:
    """What a parity run compared: enough for a test to assert that the hard cases happened."""

    steps: int
    """Env steps compared (live games only)."""
    max_obs_difference: float
    max_reward_difference: float
    observations: np.ndarray
    """`(T+1, B, n, D)` the env's observations (zeros once a game ended)."""
    rewards: np.ndarray
    """`(T, B, n)` the env's rewards."""
    actions: np.ndarray
    """`(T, B, n)` the actions played."""
    alive: np.ndarray
    """`(T+1, B, n)` which agents were present."""


class ParityError(AssertionError):
    """A core and its env disagree; the message says where (step, game, what)."""


def random_actions(seed: int = 0) -> Callable[[np.ndarray, GameInfo], np.ndarray]:
    """Uniform random actions from a seeded generator: the default way to drive both sides."""
    rng = np.random.default_rng(seed)

    def act(obs: np.ndarray, info: GameInfo) -> np.ndarray:
        return uniform_moves(rng, obs, info)  # legal moves only, in a game with masks

    return act


def assert_core_matches_env(spec: GameSpec, seeds: Sequence[int], policy: Callable[..., np.ndarray] | None = None,
                            atol: float = 1e-4, **kwargs: Any) -> ParityReport:
    """Plays one episode per seed on the game's core and on its real envs (`VectorBatch`) in lockstep, the
    actions chosen by `policy(obs, info)` from the env's observations (default: random). Raises ParityError at
    the first step where observations or rewards differ by more than `atol`, or endings or present agents
    differ; games that ended are not compared any further."""
    full = spec.resolve_kwargs(kwargs)
    info = spec.info(**kwargs)
    core = spec.batch_core(len(seeds), **full) if spec.batch_core else None
    if core is None:
        raise ParityError(f"{spec.name} has no batched core for {full}")
    reference = VectorBatch(spec, len(seeds), **full)
    act = policy or random_actions()
    try:
        core_obs, ref_obs = core.reset(list(seeds)), reference.reset(list(seeds))
        done = np.zeros(len(seeds), dtype=bool)
        _check(spec, "observations", 0, core_obs, ref_obs, ~done, atol)
        _check(spec, "present agents", 0, core.alive, reference.alive, ~done, 0)
        seen, rewards, played, alive = [ref_obs], [], [], [reference.alive.copy()]
        worst_obs = worst_reward = 0.0
        steps = 0
        while not done.all():
            actions = np.asarray(act(ref_obs, info))
            core_obs, core_rew, core_done = core.step(actions)
            ref_obs, ref_rew, ref_done = reference.step(actions)
            t, live = len(played) + 1, ~done
            worst_obs = max(worst_obs, _check(spec, "observations", t, core_obs, ref_obs, live, atol))
            worst_reward = max(worst_reward, _check(spec, "rewards", t, core_rew, ref_rew, live, atol))
            _check(spec, "endings", t, core_done, ref_done, live, 0)
            _check(spec, "present agents", t, core.alive, reference.alive, live & ~ref_done, 0)
            steps += int(live.sum())
            seen.append(ref_obs)
            rewards.append(ref_rew)
            played.append(actions)
            alive.append(reference.alive.copy())
            done = ref_done
    finally:
        reference.close()
        if hasattr(core, "close"):
            core.close()
    return ParityReport(steps, worst_obs, worst_reward, np.stack(seen), np.stack(rewards), np.stack(played),
                        np.stack(alive))


def _check(spec: GameSpec, what: str, t: int, core: np.ndarray, env: np.ndarray, rows: np.ndarray,
           atol: float) -> float:
    """Largest difference over the games in `rows`; ParityError naming the first game and step over `atol`."""
    core, env = np.asarray(core, dtype=np.float64)[rows], np.asarray(env, dtype=np.float64)[rows]
    if core.shape != env.shape:
        raise ParityError(f"{spec.name}: {what} at step {t}: core shape {core.shape}, env {env.shape}")
    gap = np.abs(core - env)
    worst = float(gap.max()) if gap.size else 0.0
    if worst > atol:
        game = int(np.flatnonzero(rows)[np.argmax(gap.reshape(len(gap), -1).max(-1))])
        raise ParityError(f"{spec.name}: {what} differ at step {t} in game {game} by {worst:.3g} (> {atol})")
    return worst
