"""Where a league's work runs: in this process (the serial path), or on Ray workers, local or a cluster.

A league hands out two kinds of work, both pure functions of plain data, so they give the same result
wherever they run:
- training one generation: `TrainJob` (the config, the team, the parent's checkpoint *bytes* and sha256) ->
  `TrainedGeneration` (the new checkpoint's bytes and sha256, metrics);
- playing one match: `league.matches.MatchJob` -> `MatchResult`.
Checkpoints travel as bytes with their sha256 and are checked where they land (a worker loading a parent, the
head writing a new generation), so nothing depends on a shared disk. The head process stays the only writer
of the database and the checkpoint folder: workers return results, the head commits them in order.

Ray (`pip install -e ".[ray]"`) is imported only when asked for. Why Ray: tasks are retried when a worker
dies (a generation killed mid-training simply trains again, with the same result), objects move between
machines without our code, and the same script runs on a laptop and on a cluster (`ray start --head`).

A local Ray (`--workers N`) is private to this user and this machine: its servers (GCS, raylet, object manager,
agents, workers) listen on loopback only, and its session files (logs, unix sockets, spilled objects) live in
a folder of mode 0700 made for this run and removed when Ray stops. A cluster given by address is used as it
was started.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from league.checkpoints import check_identity, make_payload, payload_bytes, payload_from_bytes, policy_from_payload
from league.config import ConfigError, LeagueConfig
from league.faults import crash_point
from league.matches import MatchJob, MatchResult, play_job
from league.players import PortablePolicy, rebuild_policy

TIMING_METRICS = ("steps_per_s", "seconds")
"""Metrics that measure the machine, not the policy: kept in the database, left out of the checkpoint so the
same seed and config write byte-identical checkpoint files, wherever they trained."""

class WorkerError(ChildProcessError):
    """Ray could not run a job to the end (its workers kept dying); what was recorded stays recorded. An
    OSError, like other failures of the machine, so the CLI reports it in one line."""


RAY_HINT = 'Ray is not installed; install the extra with: pip install -e ".[ray]"'


# ---------------------------------------------------------------- the work itself

@dataclass(frozen=True)
class TrainJob:
    """One generation to train: plain data, so it can be sent to a worker."""

    config: LeagueConfig
    league: str
    team: str
    number: int
    parent: bytes
    """The parent generation's checkpoint file, byte for byte (also the KL reference)."""
    parent_sha256: str
    partners: tuple[PortablePolicy, ...] = ()
    """The population the generation trains with (`GRPOConfig.partner_share`): league generations as
    checkpoint bytes, and baselines; empty = self-play only."""


@dataclass
class TrainedGeneration:
    """A trained generation as the head receives it."""

    checkpoint: bytes
    """The new checkpoint file, byte for byte; written by the head after checking `sha256`."""
    sha256: str
    metrics: list[dict[str, Any]] = field(default_factory=list)
    env_steps: int = 0
    seconds: float = 0.0
    partners: list[str] = field(default_factory=list)
    """Names of the players it trained with (recorded with the generation, so partner scores can hold them out)."""


def train_generation(job: TrainJob, on_iteration: Callable[[dict[str, Any]], None] | None = None,
                     progress: bool = False) -> TrainedGeneration:
    """Trains `job.number` from its parent and returns the new checkpoint as bytes (nothing is written)."""
    from league.grpo import train

    parent = f"{job.league}/{job.team}/g{job.number - 1}"
    payload = payload_from_bytes(job.parent, job.parent_sha256, parent)
    check_identity(payload, parent)
    cfg = job.config.team_config(job.team)
    minutes = job.config.minutes_per_generation

    def each_iteration(metrics: dict[str, Any]) -> None:
        crash_point("worker-train")
        if on_iteration:
            on_iteration({**metrics, "generation": job.number})

    result = train(
        cfg,
        max_env_steps=None if minutes else job.config.steps_per_generation,
        max_seconds=minutes * 60 if minutes else None,
        policy=policy_from_payload(payload, cfg.game, cfg.game_kwargs, parent),
        reference=policy_from_payload(payload, cfg.game, cfg.game_kwargs, parent),
        optimizer_state=payload.get("optimizer") or None,
        seed_offset=job.number,
        on_iteration=each_iteration,
        progress=progress,
        label=f"{job.league}/{job.team}/g{job.number}",
        partners={partner_name(p): rebuild_policy(cfg.game, cfg.game_kwargs, p) for p in job.partners},
    )
    final = {k: v for k, v in (result.metrics[-1] if result.metrics else {}).items() if k not in TIMING_METRICS}
    data, digest = payload_bytes(make_payload(result.policy, cfg.game, cfg.game_kwargs, cfg.to_dict(),
                                              result.optimizer_state, generation=job.number, team=job.team,
                                              league=job.league, metrics=final))
    return TrainedGeneration(data, digest, result.metrics, result.env_steps, result.seconds,
                             [partner_name(p) for p in job.partners])


def partner_name(portable: PortablePolicy) -> str:
    """A partner's player name: the generation's, or the baseline's kind."""
    return portable.name or portable.kind


# ---------------------------------------------------------------- where it runs

class InProcess:
    """The serial path: each job runs in this process when its result is asked for, so a league does its work
    in exactly the order it always did, with the progress bar of the generation in training."""

    workers = 1

    def __init__(self, on_iteration: Callable[[dict[str, Any]], None] | None = None, progress: bool = False):
        self.on_iteration, self.progress = on_iteration, progress

    def submit(self, job: TrainJob) -> TrainJob:
        """Nothing runs yet: `trained` does the work."""
        return job

    def trained(self, handle: TrainJob) -> TrainedGeneration:
        """Trains the generation now."""
        return train_generation(handle, self.on_iteration, self.progress)

    def play(self, jobs: list[MatchJob]) -> list[MatchResult]:
        """Plays the matches one after another."""
        return [play_job(job) for job in jobs]

    def close(self) -> None:
        """Nothing to stop."""


def require_ray() -> Any:
    """The `ray` module, or a ConfigError that says how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(RAY_HINT) from None
    return ray


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """A `host:port` (or `ray://host:port`) Ray address must accept a connection within `timeout` seconds:
    Ray itself keeps retrying an unreachable head for minutes. 'auto' is Ray's to resolve (it fails at once
    when no cluster runs here)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise ConnectionError(f"nothing answers at {host}:{port} ({e.strerror or e})") from None


LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch between a node address other machines can reach (its default on Linux) and loopback (its
default on macOS and Windows, where it runs single-machine). Ray reads it into
`ray._private.ray_constants.ENABLE_RAY_CLUSTER` when imported, and every process of a local Ray inherits it."""


@contextmanager
def _loopback_node(ray: Any) -> Iterator[None]:
    """While a local Ray starts, its node address is loopback, so every server binds to 127.0.0.1 (or ::1):
    Ray binds its gRPC servers to every interface unless the node address is loopback, and on Linux it
    replaces an explicit `_node_ip_address="127.0.0.1"` with the machine's network address. The processes it
    starts inherit the variable; this process's copy of Ray's constant is set too (Ray may have been imported
    before). Both are restored afterwards, so a later `ray.init(address=...)` behaves as usual."""
    try:
        from ray._private import ray_constants
    except ImportError:  # another layout: `_check_loopback` still refuses a non-loopback node
        ray_constants = None
    saved_env = os.environ.get(LOOPBACK_ENV)
    saved_flag = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[LOOPBACK_ENV] = "0"
    if saved_flag is not None:
        ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop(LOOPBACK_ENV, None)
        else:
            os.environ[LOOPBACK_ENV] = saved_env
        if saved_flag is not None:
            ray_constants.ENABLE_RAY_CLUSTER = saved_flag


def _check_loopback(ray: Any) -> None:
    """Refuses a local Ray whose node address is not loopback (its servers would listen on the network)."""
    ip = ray.util.get_node_ip_address()
    if not ipaddress.ip_address(ip).is_loopback:
        raise RuntimeError(f"the local Ray took the network address {ip}, not loopback; refusing to run it")


def _private_temp_dir() -> str:
    """A new folder of mode 0700 for a local Ray's session files, under /tmp: Ray puts unix sockets in it,
    whose paths must stay under ~107 characters. Ray makes the folders it creates world-writable (0777), so
    it gets a subfolder of this one and the 0700 here keeps other users out."""
    return tempfile.mkdtemp(prefix="league-ray-", dir="/tmp" if os.path.isdir("/tmp") else None)


def _train_task(job: TrainJob, threads: int) -> TrainedGeneration:
    import torch

    torch.set_num_threads(threads)  # the serial run's thread count when set: same floats, same checkpoint
    return train_generation(job)


class RayWorkers:
    """Jobs as Ray tasks: `workers` CPUs of a local Ray instance started here, or every CPU of the cluster at
    `address` ('auto': the one this machine belongs to). A training task asks for the config's `threads`
    CPUs (1 when `threads` is 0) and a GPU when it trains on CUDA; a match asks for one CPU. Tasks whose
    worker dies are retried. A local instance listens on loopback only and keeps its files in `temp_dir`
    (mode 0700), removed by `close`."""

    def __init__(self, workers: int | None = None, address: str | None = None, retries: int = 3) -> None:
        self.ray = ray = require_ray()
        env = {k: os.environ[k] for k in ("LEAGUE_CRASH_AT", "LEAGUE_CRASH_ONCE") if os.environ.get(k)}
        # A game named by entry point may be a module of the current directory (`games.load_entry_point` looks
        # there last): workers, which start elsewhere, search it too.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), os.getcwd()) if p)
        options: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                                       runtime_env={"env_vars": env} if env else None)
        self.temp_dir: str | None = None
        """The local Ray's private folder (None with a cluster): sockets, logs, spilled objects."""
        try:
            if address:
                check_reachable(address)
                ray.init(address=address, **options)
            else:
                self.temp_dir = _private_temp_dir()
                with _loopback_node(ray):
                    ray.init(num_cpus=workers, _temp_dir=os.path.join(self.temp_dir, "ray"), **options)
                _check_loopback(ray)
        except BaseException as e:
            if self.temp_dir:  # a local Ray half started, or refused: stop it and remove its files
                self._stop_local()
            if not isinstance(e, (ConnectionError, RuntimeError, ValueError)):
                raise
            raise ConfigError(f"cannot start or reach Ray at {address or 'this machine'}: "
                              f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._train = ray.remote(max_retries=retries)(_train_task)
        self._play = ray.remote(max_retries=retries, num_cpus=1)(play_job)
        self._pending: set[Any] = set()

    def submit(self, job: TrainJob) -> Any:
        """Starts training at once on a free worker; returns the task's reference. A team set to train on
        CUDA asks for a GPU where the cluster has one (Ray hides GPUs from tasks that do not ask)."""
        cfg = job.config.team_config(job.team)
        threads = cfg.threads or 1
        gpus = 1 if cfg.device in ("cuda", "auto") and self.ray.cluster_resources().get("GPU", 0) >= 1 else 0
        ref = self._train.options(num_cpus=min(threads, self.workers), num_gpus=gpus).remote(job, threads)
        self._pending.add(ref)
        return ref

    def trained(self, handle: Any) -> TrainedGeneration:
        """Waits for a training task."""
        return self._get([handle])[0]

    def play(self, jobs: list[MatchJob]) -> list[MatchResult]:
        """Plays the matches on all workers at once; results in the order of `jobs`."""
        refs = [self._play.remote(job) for job in jobs]
        self._pending.update(refs)
        return self._get(refs)

    def _get(self, refs: list[Any]) -> list[Any]:
        try:
            return self.ray.get(refs)
        except self.ray.exceptions.RayTaskError as e:  # the job itself raised: the same error as in this process
            cause = getattr(e, "cause", None)
            raise (cause if isinstance(cause, Exception) else WorkerError(str(e).splitlines()[0])) from None
        except self.ray.exceptions.RayError as e:  # a worker or node died more often than the retries allow
            raise WorkerError(f"Ray could not finish a job: {str(e).strip().splitlines()[0]}; rerun the same "
                              f"command to continue") from None
        finally:
            self._pending.difference_update(refs)

    def close(self) -> None:
        """Cancels whatever still runs (Ctrl-C, an error) and leaves Ray; a local instance stops with it."""
        for ref in self._pending:
            self.ray.cancel(ref, force=True)
        self._pending.clear()
        if self.temp_dir:
            self._stop_local()
        else:
            self.ray.shutdown()

    def _stop_local(self) -> None:
        """Stops the local Ray (its processes are gone when `shutdown` returns) and removes its folder."""
        try:
            self.ray.shutdown()
        finally:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


def make_workers(workers: int = 1, address: str | None = None,
                 on_iteration: Callable[[dict[str, Any]], None] | None = None,
                 progress: bool = False) -> InProcess | RayWorkers:
    """`workers` = 1 and no address: this process. More, or an address: Ray."""
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    if address is None and workers == 1:
        return InProcess(on_iteration, progress)
    return RayWorkers(None if address else workers, address)
