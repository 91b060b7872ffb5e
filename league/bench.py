"""`league bench ...`: throughput and learning-speed measurements, always as ratios to a reference measured
in the same run on the same machine (absolute numbers drift between laptops; ratios mostly do not)."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

import games
from games.rollout import rollout
from games.spec import random_move
from games.turns import uniform_moves


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
            env.step({a: random_move(env, a, rng) for a in getattr(env, "acting", env.agents)})
            n += 1
        return n

    return _rate(one_episode, seconds)


def batch_rate(game: str, num_envs: int, seconds: float = 2.0, seed: int = 0, **kwargs: Any) -> float:
    """Env steps/s of `spec.batch(num_envs)`: whole episodes, random actions, counting only live envs."""
    spec = games.get(game)
    batch = spec.batch(num_envs, **kwargs)
    info = spec.info(**kwargs)
    rng = np.random.default_rng(seed)
    episode = iter(range(seed, 2**31, num_envs))

    def random_keys(obs: np.ndarray, _: Any) -> np.ndarray:
        return uniform_moves(rng, obs, info)  # legal moves only, in a game with masks

    def one_round() -> int:
        return rollout(batch, np.arange(num_envs) + next(episode), random_keys, info, spec.team_reward).env_steps

    try:
        return _rate(one_round, seconds)
    finally:
        batch.close()


def bench_env(game: str, batch_sizes: tuple[int, ...] = (1, 64, 1024, 4096), seconds: float = 2.0,
              **kwargs: Any) -> dict[str, Any]:
    """Reference loop vs batched runner at several batch sizes, in one run; ratios to the reference."""
    spec = games.get(game)
    reference = reference_rate(game, seconds, **kwargs)
    rows = []
    for b in batch_sizes:
        rate = batch_rate(game, b, seconds, **kwargs)
        rows.append({"num_envs": b, "steps_per_s": rate, "ratio": rate / reference})
    probe = spec.batch(1, **kwargs)
    kind = type(probe).__name__
    probe.close()
    return {
        "game": game,
        "batch_kind": kind,
        "reference_steps_per_s": reference,
        "batched": rows,
        "best_ratio": max(r["ratio"] for r in rows),
    }


def bench_learn(
    config: Any,
    minutes: float,
    eval_every: float = 10.0,
    eval_episodes: int = 200,
    out: str | None = None,
    stop_at_target: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Trains a team from scratch for `minutes` of training time and reports when greedy play on held-out
    seeds (PettingZoo env) first reaches normalized score 0.5 / 0.8 / 1.0, in training seconds (evaluation
    time excluded) and env steps; also training env steps/s against the reference env loop, measured here."""
    from league.checkpoints import make_payload, save_checkpoint
    from league.evaluate import eval_seeds, mean_interval, play, random_policy
    from league.grpo import new_policy, normalized_score, train

    spec = games.get(config.game)
    kwargs = config.game_kwargs
    info = spec.info(**kwargs)
    seeds = eval_seeds(eval_episodes)
    random_returns = play(config.game, random_policy(info, seed=config.seed), seeds, kwargs)
    scripted = spec.scripted
    scripted_returns = play(config.game, scripted, seeds, kwargs) if scripted else None
    baselines = (float(random_returns.mean()), float(scripted_returns.mean())) if scripted else None
    reference_steps_per_s = reference_rate(config.game, seconds=3.0, **kwargs)

    budget = minutes * 60.0
    state = {"eval_seconds": 0.0, "next_eval": eval_every, "curve": [], "reached": {}}

    def evaluate(metrics: dict[str, float]) -> None:
        start = time.perf_counter()
        returns = play(config.game, policy.numpy_policy(deterministic=True), seeds, kwargs)
        mean, half = mean_interval(returns)
        score = normalized_score(mean, baselines)
        train_seconds = metrics["seconds"] - state["eval_seconds"]
        state["curve"].append({"train_seconds": train_seconds, "env_steps": metrics["env_steps"],
                               "greedy_return": mean, "interval": half, "score": score})
        for target in (0.5, 0.8, 1.0):
            if score is not None and score >= target and target not in state["reached"]:
                state["reached"][target] = {"train_seconds": train_seconds, "env_steps": metrics["env_steps"]}
        state["eval_seconds"] += time.perf_counter() - start

    def on_iteration(metrics: dict[str, float]) -> bool:
        train_seconds = metrics["seconds"] - state["eval_seconds"]
        last = train_seconds >= budget
        if train_seconds >= state["next_eval"] or last:
            evaluate(metrics)
            state["next_eval"] = train_seconds + eval_every
        return last or (stop_at_target and 1.0 in state["reached"])

    policy = new_policy(config)  # evaluations read the weights as they train
    result = train(config, policy=policy, on_iteration=on_iteration, progress=progress,
                   score_baselines=baselines)
    train_seconds = result.seconds - state["eval_seconds"]
    final = state["curve"][-1]
    report: dict[str, Any] = {
        "game": config.game,
        "game_kwargs": kwargs,
        "config": config.to_dict(),
        "minutes_budget": minutes,
        "train_seconds": train_seconds,
        "env_steps": result.env_steps,
        "train_steps_per_s": result.env_steps / train_seconds,
        "reference_steps_per_s": reference_steps_per_s,
        "throughput_ratio": result.env_steps / train_seconds / reference_steps_per_s,
        "eval_episodes": eval_episodes,
        "random": mean_interval(random_returns),
        "scripted": mean_interval(scripted_returns) if scripted else None,
        "trained": (final["greedy_return"], final["interval"]),
        "final_score": final["score"],
        "reached": {str(k): v for k, v in sorted(state["reached"].items())},
        "curve": state["curve"],
    }
    if out:
        payload = make_payload(result.policy, config.game, kwargs, config.to_dict(), result.optimizer_state,
                               metrics=result.metrics[-1])
        report["checkpoint"] = out
        report["sha256"] = save_checkpoint(out, payload)
    return report


def bench_ratings(players: int, results: int, seed: int = 0) -> dict[str, Any]:
    """Fit time for `players` x `results` synthetic results; the reference is the time to aggregate the
    results into per-player scores (one pass), measured in the same run."""
    from league.ratings import fit_ratings, synthetic_results

    rng = np.random.default_rng(seed)
    true = rng.normal(1000.0, 200.0, players)
    true[0] = 1000.0
    rows = [("random" if a == "p0" else a, "random" if b == "p0" else b, s)
            for a, b, s in synthetic_results(true, results, seed=seed + 1)]
    start = time.perf_counter()
    totals: dict[str, float] = {}
    for a, b, s in rows:
        totals[a] = totals.get(a, 0.0) + s
        totals[b] = totals.get(b, 0.0) + 1 - s
    read_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ratings = {r.player: r for r in fit_ratings(rows)}
    fit_seconds = time.perf_counter() - start
    inside = [abs(ratings[f"p{i}"].elo - true[i]) <= ratings[f"p{i}"].interval
              for i in range(1, players) if f"p{i}" in ratings]
    return {"players": players, "results": results, "fit_seconds": fit_seconds, "read_seconds": read_seconds,
            "ratio": fit_seconds / read_seconds, "coverage": float(np.mean(inside)),
            "mean_interval": float(np.mean([r.interval for r in ratings.values()]))}


def bench_league(workers: tuple[int, ...] = (1, 2), game: str = "simple_spread", teams: int = 2,
                 generations: int = 2, steps: int = 200_000, matches: int = 24, seeds: int = 16,
                 game_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The same small league run once per worker count (1 = this process, the serial reference; more = a
    local Ray with that many workers), each in a fresh database: generations per hour over the whole league
    run (training and the scheduled matches), then matches per second over `matches` more duplicate matches
    among its generations. Ray's start-up is timed apart, since a league pays it once."""
    import tempfile
    from pathlib import Path

    from league.config import GRPOConfig, LeagueConfig, with_preset
    from league.manager import LeagueManager
    from league.matches import prepare_match, store_match
    from league.store import Store
    from league.workers import make_workers

    config = LeagueConfig(teams=teams, generations=generations, steps_per_generation=steps, match_seeds=seeds,
                          grpo=GRPOConfig.from_dict(with_preset({"game": game, "game_kwargs": game_kwargs or {}})))
    rows = []
    for count in workers:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            pool = make_workers(count)
            startup = time.perf_counter() - start
            store = None
            try:
                store = Store.open(str(Path(tmp) / "league.db"), create=True)
                manager = LeagueManager(store, config, Path(tmp) / "checkpoints")
                start = time.perf_counter()
                trained = manager.run(workers=pool)
                league_seconds = time.perf_counter() - start
                names = [g["name"] for g in store.generations(manager.league["id"])]
                pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
                played = len(store.matches(manager.league["id"]))
                start = time.perf_counter()
                prepared = [prepare_match(store, manager.league, *pairs[k % len(pairs)], seeds, played + k)
                            for k in range(matches)]
                for (a, b, _), result in zip(prepared, pool.play([job for _, _, job in prepared])):
                    store_match(store, manager.league, a, b, result)
                match_seconds = time.perf_counter() - start
            finally:
                if store is not None:
                    store.close()
                pool.close()
        rows.append({"workers": count, "runner": "this process" if count == 1 else "ray",
                     "startup_seconds": startup, "generations": trained, "league_seconds": league_seconds,
                     "generations_per_hour": trained / league_seconds * 3600, "matches": matches,
                     "match_seconds": match_seconds, "matches_per_s": matches / match_seconds})
    for row in rows:
        row["generations_ratio"] = row["generations_per_hour"] / rows[0]["generations_per_hour"]
        row["matches_ratio"] = row["matches_per_s"] / rows[0]["matches_per_s"]
    return {"game": game, "teams": teams, "generations": generations, "steps_per_generation": steps,
            "match_seeds": seeds, "rows": rows}


def _burn(stop: Any, go: Any) -> None:
    """A CPU-bound process at normal priority, as another program on the machine would be: Python arithmetic on
    one thread (numpy's matrix products would run on every core, i.e. be as many busy programs) while `go` is
    set, until `stop` is."""
    x = 0
    while not stop.is_set():
        if not go.wait(0.05):
            continue
        for i in range(100_000):
            x = (x * 31 + i) % 1_000_003


def bench_busy(config: Any, seconds: float = 20.0, rounds: int = 3) -> dict[str, Any]:
    """Training throughput (env steps/s) of `config` on an idle machine and beside one CPU-bound process at
    normal priority, in one run: people train while they watch, play or work. The reference is the same config
    on torch's default thread count, fixed (all cores: how training ran before `threads = 0` followed the
    machine), measured in the same run. The four take turns, `rounds` times (so a machine whose speed drifts
    affects all alike), each turn training from the same fresh start for `seconds / rounds`; the first update of
    a turn (allocation, caches) is not counted."""
    import dataclasses
    import multiprocessing
    import signal
    from collections import Counter

    import torch

    from league.grpo import train

    default_threads = torch.get_num_threads()
    reference = dataclasses.replace(config, threads=default_threads)
    sides = {"idle": (config, False), "loaded": (config, True),
             "reference_idle": (reference, False), "reference_loaded": (reference, True)}
    totals = {side: {"steps": 0, "spent": 0.0, "cpu": 0.0, "threads": Counter()} for side in sides}

    def turn(side: str) -> None:
        """Trains for one turn, adding each update's steps, time and CPU time (after the first) and its thread
        count."""
        total, done, start, cpu = totals[side], 0, time.perf_counter(), time.process_time()

        def on_iteration(metrics: dict[str, float]) -> bool:
            nonlocal done, cpu
            made, done = metrics["env_steps"] - done, metrics["env_steps"]
            cpu, used = time.process_time(), time.process_time() - cpu  # this process's CPU seconds, every thread
            if metrics["iteration"] > 0:
                total["steps"] += made
                total["spent"] += made / metrics["steps_per_s"]
                total["cpu"] += used
                total["threads"][torch.get_num_threads()] += 1  # the count this update ran with
            # the turn's time is up, and at least one update after the first was counted
            return metrics["iteration"] > 0 and time.perf_counter() - start >= seconds / rounds

        train(sides[side][0], on_iteration=on_iteration)

    context = multiprocessing.get_context("spawn")
    stop, go = context.Event(), context.Event()
    burner = context.Process(target=_burn, args=(stop, go), daemon=True)
    ctrl_c = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the burner starts ignoring Ctrl-C: this process stops
    try:  # it, instead of both printing a KeyboardInterrupt traceback
        burner.start()
    finally:
        signal.signal(signal.SIGINT, ctrl_c)
    try:
        for _ in range(rounds):
            for side, (_, loaded) in sides.items():
                if loaded != go.is_set():
                    go.set() if loaded else go.clear()
                    time.sleep(0.5)  # the other program has started (or stopped) before training starts
                turn(side)
            go.clear()
    finally:
        stop.set()
        burner.join(timeout=10)
        if burner.is_alive():
            burner.kill()
        torch.set_num_threads(default_threads)
    rate = {side: t["steps"] / t["spent"] if t["spent"] else float("nan") for side, t in totals.items()}
    return {"game": config.game, "threads": config.threads, "default_threads": default_threads,
            "seconds": seconds, "rounds": rounds,
            **{f"{side}_steps_per_s": rate[side] for side in sides},
            "ratio": rate["loaded"] / rate["idle"],
            "reference_ratio": rate["reference_loaded"] / rate["reference_idle"],
            "idle_vs_reference": rate["idle"] / rate["reference_idle"],
            # cores training held (CPU seconds / seconds): beside a busy program the scheduler gives it its share
            **{f"{side}_cores": t["cpu"] / t["spent"] if t["spent"] else float("nan") for side, t in totals.items()},
            **{f"{side}_updates_by_threads": dict(sorted(totals[side]["threads"].items())) for side in sides}}
