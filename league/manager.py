"""The league loop: pick a team -> load its latest generation -> train the next -> save -> record -> repeat.

Crash safety comes from the order of writes: a generation's checkpoint is written atomically and fsynced
*before* its row (with metrics and player) is committed in one transaction, so the database never names a
file that is not whole. The same transaction fixes the generation's matches (opponents, order, seeds:
`Store.schedule_matches`), and each match fills its slot in the transaction that stores it, so every scheduled
match is played exactly once however the run dies. A crash loses at most the round in progress; running the
same command again first plays the scheduled matches still missing, then picks up from the last recorded
generation of each team (a checkpoint left without its row is simply rewritten).

A resumed league is the league an uninterrupted run makes, generation by generation and result by result:
what a job or a match depends on is fixed by what was recorded before it in the serial order (a job by what
was recorded up to its parent, `partner_pool(as_of=...)`; a match by its slot), never by when the run restarted.
Two `league train` of the same league at once take turns at the database and record each generation and
match once (training is deterministic, so both make the same generations; one that made different weights
stops with one line).

Training and matches run on `league.workers` (this process, or Ray workers); this process stays the only
writer of the database and the checkpoint folder either way.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import games
from league.checkpoints import (check_finite_generation, make_payload, payload_bytes, read_checkpoint,
                                save_generation_checkpoint)
from league.config import ConfigError, LeagueConfig
from league.faults import crash_point
from league.grpo import new_policy
from league.players import portable_player
from league.store import Store, StoreError
from league.workers import InProcess, RayWorkers, TrainedGeneration, TrainJob


@dataclass
class RoundReport:
    """What one round made, for the CLI to print."""

    generation: dict[str, Any]
    train_seconds: float
    storage_seconds: float
    matches: list[dict[str, Any]]
    match_seconds: float


class _MatchesPending(Exception):
    """Raised inside `_record_now`'s transaction when earlier scheduled matches are not stored yet."""


def checkpoint_path(root: str | Path, league: str, team: str, number: int) -> Path:
    """`<root>/<league>/<team>/g<number>.pt`; the saved file adds its hash: `g<number>-<sha256[:12]>.pt`."""
    return Path(root) / league / team / f"g{number}.pt"


def remove_stale_temporaries(folder: Path) -> None:
    """Temporary files of a save that a crash interrupted are never referenced: remove them."""
    if folder.is_dir():
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


Workers = InProcess | RayWorkers


class LeagueManager:
    """Runs a league stored in `store`, its checkpoints under `checkpoint_root`."""

    def __init__(self, store: Store, config: LeagueConfig, checkpoint_root: str | Path = "checkpoints") -> None:
        self.store = store
        self.config = config.validate()
        self.checkpoint_root = Path(checkpoint_root)
        grpo = self.config.grpo
        spec = games.get(grpo.game)
        with store.transaction():  # the league and all its teams, or nothing (a refused config, a crash)
            self.league = store.ensure_league(self.config.name, grpo.game, grpo.game_kwargs, self.config.to_dict())
            if spec.resolve_kwargs(self.league["game_kwargs"]) != spec.resolve_kwargs(grpo.game_kwargs):
                raise ConfigError(f"league {self.config.name!r} plays {grpo.game} with options "
                                  f"{self.league['game_kwargs']}, not {grpo.game_kwargs}; use another --league")
            self.teams = [
                store.ensure_team(self.league["id"], name, self.config.team_config(name).seed,
                                  self.config.team_config(name).to_dict())
                for name in self.config.team_names
            ]

    def ensure_generation_zero(self, workers: Workers | None = None) -> None:
        """Every team starts from an untrained policy recorded as g0, which plays its scheduled matches
        (random among them) so the bottom of the ratings is tied to the anchor from the start."""
        for team in self.teams:
            if self.store.latest_generation(team["id"]) is None:
                cfg = self.config.team_config(team["name"])
                data, digest = payload_bytes(make_payload(new_policy(cfg), cfg.game, cfg.game_kwargs, cfg.to_dict(),
                                                          generation=0, team=team["name"], league=self.league["name"],
                                                          metrics={}))
                self.play_scheduled(self._record(team, 0, None, TrainedGeneration(data, digest), workers), workers)

    def schedule(self) -> list[tuple[dict[str, Any], int]]:
        """The rounds still to run, in order: (team, generation number). Always the team with the fewest
        generations next (ties: league order), so teams grow together and a resumed league catches up."""
        level = {t["id"]: self.store.latest_generation(t["id"])["number"] for t in self.teams}
        order = []
        while behind := [(level[t["id"]], i, t) for i, t in enumerate(self.teams)
                         if level[t["id"]] < self.config.generations]:
            _, _, team = min(behind, key=lambda b: b[:2])
            level[team["id"]] += 1
            order.append((team, level[team["id"]]))
        return order

    def train_job(self, team: dict[str, Any], number: int) -> TrainJob:
        """Generation `number` of `team`, to train from its recorded parent (hash-checked here and again
        where it lands)."""
        parent = self.parent(team, number)
        data = read_checkpoint(parent["checkpoint"], parent["sha256"])
        partners = tuple(portable_player(self.store, self.league, name)[1]
                         for name in self.partner_pool(team, as_of=parent["id"]))
        return TrainJob(self.config, self.league["name"], team["name"], number, data, parent["sha256"], partners)

    def parent(self, team: dict[str, Any], number: int) -> dict[str, Any]:
        """The recorded generation `number - 1` of `team` (a StoreError when it is not recorded)."""
        return self.store.generation(f"{team['name']}/g{number - 1}", self.league["name"])

    def partner_pool(self, team: dict[str, Any], as_of: int | None = None) -> list[str]:
        """Whom the team's next generation may train with: once the league has a trained generation, up to
        `partner_pool` of them (the other teams' latest first, then the most recent others; never the parent,
        which the team already is) and the scripted baseline. Empty when `partner_share` is 0 or the game has one
        seat (a partner in it would leave the team nothing to play).

        `as_of` (the parent's id, when a job is made): only the generations recorded up to it count, i.e. what
        the league held when the parent was recorded, which is when an uninterrupted run makes the job (ids grow
        in recording order). So the pool never depends on when a run restarted, nor on generations recorded
        after that point (a resumed or extended league trains the generations an uninterrupted one trains).
        Without it: everything recorded now."""
        cfg = self.config.team_config(team["name"])
        recorded = [g for g in self.store.generations(self.league["id"]) if as_of is None or g["id"] <= as_of]
        trained = [g for g in recorded if g["number"] >= 1]
        if not cfg.partner_share or not trained or len(games.get(cfg.game).info(**cfg.game_kwargs).agents) < 2:
            return []

        def latest_of(team_id: int) -> dict[str, Any] | None:
            return max((g for g in recorded if g["team_id"] == team_id), key=lambda g: g["number"], default=None)

        parent = latest_of(team["id"])
        latest = [latest_of(t["id"]) for t in self.teams if t["id"] != team["id"]]
        latest = [g for g in latest if g is not None and g["number"] >= 1]
        rest = sorted((g for g in trained if g["id"] != parent["id"] and g["id"] not in {x["id"] for x in latest}),
                      key=lambda g: -g["id"])
        names = [g["name"] for g in (latest + rest)[: cfg.partner_pool]]
        return names + (["scripted"] if games.get(self.league["game"]).scripted else [])

    # ------------------------------------------------------------ matches
    def opponents(self, generation: dict[str, Any]) -> list[str]:
        """Whom a new generation plays, by the config's rules; no duplicates, never itself."""
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
            elif kind == "random" or (kind == "scripted" and games.get(self.league["game"]).scripted):
                add(kind)
        return chosen

    def play_scheduled(self, generation: dict[str, Any], workers: Workers | None = None) -> list[dict[str, Any]]:
        """The generation's scheduled duplicate matches not stored yet, each on the seeds fixed when it was
        scheduled (`Store.schedule_matches`): they play at once on `workers` and are committed in schedule order,
        each filling its slot, so the database ends up the same wherever they played and however often the run
        was cut short between two of them."""
        from league.matches import prepare_match

        workers = workers or InProcess()
        pending = [s for s in self.store.scheduled_matches(generation["id"]) if s["match_id"] is None]
        prepared = [prepare_match(self.store, self.league, generation["name"], s["opponent"], s["seeds"], s["played"])
                    for s in pending]
        results = workers.play([job for _, _, job in prepared])
        stored = []
        for k, (slot, (a, b, _), result) in enumerate(zip(pending, prepared, results)):
            if k:
                crash_point("between-matches")
            stored.append(self.store.add_match(self.league["id"], result.kind, a["id"], b["id"], result,
                                               scheduled=(generation["id"], slot["position"])))
        return stored

    def schedule_matches(self, generation: dict[str, Any]) -> list[dict[str, Any]]:
        """Fixes a generation's matches (`opponents`, in order, with their seeds); call it in the transaction
        that records the generation, so what it depends on is what was recorded just before."""
        return self.store.schedule_matches(generation["id"], self.opponents(generation), self.config.match_seeds)

    def catch_up_matches(self, workers: Workers | None = None) -> list[dict[str, Any]]:
        """Scheduled matches a crash, Ctrl-C or a full disk left unplayed, oldest generation first, on the seeds
        they were given. A generation recorded before schedules were stored that has no match at all (its round
        was cut short after saving) is scheduled now and plays."""
        played: list[dict[str, Any]] = []
        for generation in sorted(self.store.generations(self.league["id"]), key=lambda g: g["id"]):
            schedule = self.store.scheduled_matches(generation["id"])
            if not schedule and not self.store.matches(self.league["id"], player=generation["name"]):
                with self.store.transaction():
                    schedule = self.schedule_matches(generation)
            if any(s["match_id"] is None for s in schedule):
                played += self.play_scheduled(generation, workers)
        return played

    def _record(self, team: dict[str, Any], number: int, parent_id: int | None, trained: TrainedGeneration,
                workers: Workers | None = None) -> dict[str, Any]:
        """`_record_now` once every earlier generation's scheduled matches are stored: its schedule (opponents by
        rating and games played) then depends on what an uninterrupted run had recorded at that point, even when
        another `league train` of the same league is still playing them; the missing ones are played here first
        (each slot is filled once, whoever stores it first)."""
        while True:
            try:
                return self._record_now(team, number, parent_id, trained)
            except _MatchesPending:
                if not self.catch_up_matches(workers):
                    time.sleep(0.2)  # another process is storing them right now

    def _record_now(self, team: dict[str, Any], number: int, parent_id: int | None,
                    trained: TrainedGeneration) -> dict[str, Any]:
        """Checkpoint first (hash-checked, atomic, fsynced), then the database row and the generation's scheduled
        matches, committed in one transaction. All of it holds the database's write lock, so another process
        writing the same folder (two `league train` of one league) never has its temporary file taken for a
        crash's leftover. A generation another process recorded meanwhile is taken as it is when its checkpoint
        is the same, and refused in one line otherwise."""
        check_finite_generation(trained.checkpoint, trained.metrics[-1] if trained.metrics else {},
                                f"{self.league['name']}/{team['name']}/g{number}")  # nan/inf: nothing written
        path = checkpoint_path(self.checkpoint_root, self.league["name"], team["name"], number)
        cfg = self.config.team_config(team["name"])
        final = trained.metrics[-1] if trained.metrics else {}
        with self.store.transaction():
            latest = self.store.latest_generation(team["id"])
            if latest is not None and latest["number"] >= number:
                recorded = self.store.generation(f"{team['name']}/g{number}", self.league["name"])
                if recorded["sha256"] != trained.sha256:
                    raise StoreError(f"{recorded['name']} was recorded meanwhile by another process with other "
                                     f"weights (sha256 {recorded['sha256'][:12]}, not {trained.sha256[:12]}): "
                                     f"train a league with one `league train` at a time")
                return recorded
            if self.store.unplayed_scheduled_matches(self.league["id"]):
                raise _MatchesPending  # nothing written yet: the transaction ends, the matches play, then retry
            remove_stale_temporaries(path.parent)
            path = save_generation_checkpoint(path, trained.checkpoint, trained.sha256)
            crash_point("after-save")
            generation = self.store.add_generation(team["id"], number, parent_id, str(path), trained.sha256,
                                                   cfg.to_dict(), trained.env_steps, trained.seconds, final,
                                                   trained.metrics, trained.partners)
            self.schedule_matches(generation)
        return generation

    def run(self, on_round: Callable[[RoundReport], None] | None = None,
            on_iteration: Callable[[dict[str, Any]], None] | None = None, progress: bool = False,
            workers: Workers | None = None) -> int:
        """Rounds until every team has `generations` trained generations; returns how many rounds ran.

        Each team trains its next generation as soon as its parent is recorded, on `workers` (default: this
        process, one job at a time); the head records generations and plays their matches in `schedule`
        order. Training depends only on the parent and matches only on what is recorded before them, so the
        league comes out the same, generation by generation and result by result, wherever the work ran."""
        workers = workers or InProcess(on_iteration, progress)
        self.catch_up_matches(workers)  # first: an uninterrupted run played them before anything that follows
        self.ensure_generation_zero(workers)
        order = self.schedule()
        running: dict[int, Any] = {}  # team id -> its next generation in training
        for team, number in order:
            if team["id"] not in running:
                running[team["id"]] = workers.submit(self.train_job(team, number))
        rounds = 0
        for k, (team, number) in enumerate(order):
            trained = workers.trained(running.pop(team["id"]))
            crash_point("before-save")
            start = time.perf_counter()
            generation = self._record(team, number, self.parent(team, number)["id"], trained, workers)
            storage_seconds = time.perf_counter() - start
            if any(t["id"] == team["id"] for t, _ in order[k + 1:]):  # trains while the matches play
                running[team["id"]] = workers.submit(self.train_job(team, number + 1))
            start = time.perf_counter()
            matches = self.play_scheduled(generation, workers)
            rounds += 1
            if on_round:
                on_round(RoundReport(generation, trained.seconds, storage_seconds, matches,
                                     time.perf_counter() - start))
        return rounds
