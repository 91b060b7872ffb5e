"""The league loop: pick a team -> load its latest generation -> train the next -> save -> record -> repeat.

Crash safety comes from the order of writes: a generation's checkpoint is written atomically and fsynced
*before* its row (with metrics and player) is committed in one transaction, so the database never names a
file that is not whole. A crash loses at most the round in progress; running the same command again picks up
from the last recorded generation of each team (a checkpoint left without its row is simply rewritten).
"""

from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import games
from league.checkpoints import load_checkpoint, make_payload, policy_from_payload, save_generation_checkpoint
from league.config import ConfigError, LeagueConfig
from league.grpo import new_policy, train
from league.store import Store


@dataclass
class RoundReport:
    """What one round made, for the CLI to print."""

    generation: dict[str, Any]
    train_seconds: float
    storage_seconds: float
    matches: list[dict[str, Any]]
    match_seconds: float


_crash_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Fault injection for the crash tests: `LEAGUE_CRASH_AT=<name>[:k]` kills the process with SIGKILL the
    k-th time (default 1st) it passes here, exactly as a power cut would. Unset, as always outside tests,
    it does nothing."""
    target, _, nth = os.environ.get("LEAGUE_CRASH_AT", "").partition(":")
    if target != name:
        return
    _crash_counts[name] = _crash_counts.get(name, 0) + 1
    if _crash_counts[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def checkpoint_path(root: str | Path, league: str, team: str, number: int) -> Path:
    """`<root>/<league>/<team>/g<number>.pt`; the saved file adds its hash: `g<number>-<sha256[:12]>.pt`."""
    return Path(root) / league / team / f"g{number}.pt"


def remove_stale_temporaries(folder: Path) -> None:
    """Temporary files of a save that a crash interrupted are never referenced: remove them."""
    if folder.is_dir():
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


class LeagueManager:
    """Runs a league stored in `store`, its checkpoints under `checkpoint_root`."""

    def __init__(self, store: Store, config: LeagueConfig, checkpoint_root: str | Path = "checkpoints") -> None:
        self.store = store
        self.config = config.validate()
        self.checkpoint_root = Path(checkpoint_root)
        grpo = self.config.grpo
        self.league = store.ensure_league(self.config.name, grpo.game, grpo.game_kwargs, self.config.to_dict())
        spec = games.get(grpo.game)
        if spec.resolve_kwargs(self.league["game_kwargs"]) != spec.resolve_kwargs(grpo.game_kwargs):
            raise ConfigError(f"league {self.config.name!r} plays {grpo.game} with options "
                              f"{self.league['game_kwargs']}, not {grpo.game_kwargs}; use another --league")
        self.teams = [
            store.ensure_team(self.league["id"], name, self.config.team_config(name).seed,
                              self.config.team_config(name).to_dict())
            for name in self.config.team_names
        ]

    def ensure_generation_zero(self) -> None:
        """Every team starts from an untrained policy recorded as g0, which plays its scheduled matches
        (random among them) so the bottom of the ratings is tied to the anchor from the start."""
        for team in self.teams:
            if self.store.latest_generation(team["id"]) is None:
                cfg = self.config.team_config(team["name"])
                self.play_scheduled(self._record(team, 0, None, new_policy(cfg), cfg, {}, [], 0, 0.0))

    def next_team(self) -> dict[str, Any] | None:
        """The team with the fewest generations still short of the target (ties: league order)."""
        behind = [(self.store.latest_generation(t["id"])["number"], i, t) for i, t in enumerate(self.teams)]
        behind = [b for b in behind if b[0] < self.config.generations]
        return min(behind, key=lambda b: b[:2])[2] if behind else None

    def run_round(self, team: dict[str, Any], on_iteration: Callable[[dict[str, Any]], None] | None = None,
                  progress: bool = False) -> RoundReport:
        """Trains the team's next generation from its latest one (also the KL reference) and records it."""
        parent = self.store.latest_generation(team["id"])
        payload = load_checkpoint(parent["checkpoint"], parent["sha256"])
        policy = policy_from_payload(payload)
        cfg = self.config.team_config(team["name"])
        number = parent["number"] + 1
        minutes = self.config.minutes_per_generation
        result = train(
            cfg,
            max_env_steps=None if minutes else self.config.steps_per_generation,
            max_seconds=minutes * 60 if minutes else None,
            policy=policy,
            reference=policy_from_payload(payload),
            optimizer_state=payload.get("optimizer") or None,
            seed_offset=number,
            on_iteration=(lambda m: on_iteration({**m, "generation": number})) if on_iteration else None,
            progress=progress,
            label=f"{self.league['name']}/{team['name']}/g{number}",
        )
        crash_point("before-save")
        start = time.perf_counter()
        generation = self._record(team, number, parent["id"], result.policy, cfg, result.optimizer_state,
                                  result.metrics, result.env_steps, result.seconds)
        storage_seconds = time.perf_counter() - start
        start = time.perf_counter()
        matches = self.play_scheduled(generation)
        return RoundReport(generation, result.seconds, storage_seconds, matches, time.perf_counter() - start)

    # ------------------------------------------------------------ matches
    def opponents(self, generation: dict[str, Any]) -> list[str]:
        """Whom a new generation plays, by the config's rules; no duplicates, never itself."""
        from games.scripted import scripted_policy
        from league.ratings import fit_ratings

        league_id = self.league["id"]
        others = [g for g in self.store.generations(league_id) if g["id"] != generation["id"]]
        chosen: list[str] = []

        def add(name: str | None) -> None:
            if name and name != generation["name"] and name not in chosen:
                chosen.append(name)

        rng = random.Random(f"{self.config.seed}/{generation['name']}")
        for rule in self.config.opponents:
            kind, _, count = rule.partition(":")
            if kind == "parent" and generation["parent_id"]:
                add(self.store.generation(generation["parent_id"])["name"])
            elif kind == "other_teams":
                for team in self.teams:
                    latest = self.store.latest_generation(team["id"])
                    if team["id"] != generation["team_id"] and latest:
                        add(latest["name"])
            elif kind == "top":
                rated = [r.player for r in fit_ratings(self.store.rated_results(league_id))]
                add(next((p for p in rated if p != generation["name"] and not p.startswith("human:")), None))
            elif kind == "least_played":
                played = self.store.games_played(league_id)
                add(min(others, key=lambda g: (played.get(g["name"], 0), g["id"]))["name"] if others else None)
            elif kind == "history":
                pool = [g["name"] for g in others if g["name"] not in chosen]
                for name in rng.sample(pool, min(int(count or 1), len(pool))):
                    add(name)
            elif kind == "random" or (kind == "scripted" and scripted_policy(self.league["game"])):
                add(kind)
        return chosen

    def play_scheduled(self, generation: dict[str, Any]) -> list[dict[str, Any]]:
        """Duplicate matches of a new generation against its scheduled opponents."""
        from league.players import play_match

        return [play_match(self.store, self.league, generation["name"], opponent, self.config.match_seeds)
                for opponent in self.opponents(generation)]

    def catch_up_matches(self) -> list[dict[str, Any]]:
        """Generations whose round was cut short after saving (a crash, Ctrl-C) play their matches now."""
        played: list[dict[str, Any]] = []
        for generation in self.store.generations(self.league["id"]):
            if not self.store.matches(self.league["id"], player=generation["name"]):
                played += self.play_scheduled(generation)
        return played

    def _record(self, team: dict[str, Any], number: int, parent_id: int | None, policy: Any, cfg: Any,
                optimizer_state: dict[str, Any], metrics: list[dict[str, Any]], steps: int,
                seconds: float) -> dict[str, Any]:
        """Checkpoint first (atomic, fsynced), then the database row in one transaction."""
        path = checkpoint_path(self.checkpoint_root, self.league["name"], team["name"], number)
        remove_stale_temporaries(path.parent)
        final = metrics[-1] if metrics else {}
        payload = make_payload(policy, cfg.game, cfg.game_kwargs, cfg.to_dict(), optimizer_state,
                               generation=number, team=team["name"], league=self.league["name"], metrics=final)
        path, digest = save_generation_checkpoint(path, payload)
        crash_point("after-save")
        return self.store.add_generation(team["id"], number, parent_id, str(path), digest, cfg.to_dict(), steps,
                                         seconds, final, metrics)

    def run(self, on_round: Callable[[RoundReport], None] | None = None,
            on_iteration: Callable[[dict[str, Any]], None] | None = None, progress: bool = False) -> int:
        """Rounds until every team has `generations` trained generations; returns how many rounds ran."""
        self.ensure_generation_zero()
        self.catch_up_matches()
        rounds = 0
        while (team := self.next_team()) is not None:
            report = self.run_round(team, on_iteration, progress)
            rounds += 1
            if on_round:
                on_round(report)
        return rounds
