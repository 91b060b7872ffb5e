"""Self-describing checkpoint files: written atomically, identified by sha256, loaded without running code.

A checkpoint holds everything needed to rebuild and continue a team (nanoGPT / SB3 style): the policy's
constructor arguments and weights, the optimizer state, the GRPO config, the game and its options, and the
versions that wrote it. `torch.load(weights_only=True)` only rebuilds tensors and plain containers, so a file
crafted to run code on unpickling is refused instead of executed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import torch

from league.policy import TeamPolicy

FORMAT = "coop-league-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, truncated, tampered with or not ours; the message names the file."""


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """Versions of what wrote a checkpoint, for reading old files and for bug reports."""
    out = {"torch": str(torch.__version__)}  # TorchVersion is not a plain str: weights_only refuses it
    for dist in ("coop-league", "pettingzoo", "mpe2", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def make_payload(policy: TeamPolicy, game: str, game_kwargs: dict[str, Any], config: dict[str, Any],
                 optimizer_state: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """Everything a checkpoint stores, as tensors and plain containers only (loadable with weights_only)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "game": game,
        "game_kwargs": dict(game_kwargs),
        "policy_args": dict(policy.args),
        "state_dict": {k: v.detach().cpu() for k, v in policy.state_dict().items()},
        "optimizer": optimizer_state or {},
        "config": dict(config),
        "versions": versions(),
        **extra,
    }


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> str:
    """Writes `payload` to `path` atomically (temporary file in the same folder, fsync, rename, fsync the
    folder) so a crash leaves either the old file or the whole new one. Returns the file's sha256."""
    return _write_atomic(payload, Path(path), lambda digest: Path(path))[1]


def save_generation_checkpoint(path: str | Path, payload: dict[str, Any]) -> tuple[Path, str]:
    """Like `save_checkpoint`, but the file is named `<stem>-<sha256[:12]><suffix>` and its absolute path is
    returned: leagues of different databases sharing a checkpoint folder never overwrite each other's files,
    and a file left by a crash before its row was committed is never mistaken for a recorded one."""
    path = Path(path).resolve()
    return _write_atomic(payload, path, lambda digest: path.with_name(f"{path.stem}-{digest[:12]}{path.suffix}"))


def _write_atomic(payload: dict[str, Any], path: Path, final_name: Callable[[str], Path]) -> tuple[Path, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        digest = sha256_file(tmp)
        final = final_name(digest)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final, digest


def load_checkpoint(path: str | Path, expected_sha256: str | None = None) -> dict[str, Any]:
    """Reads a checkpoint; with `expected_sha256` the bytes must match it. Never executes pickled code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if expected_sha256 is not None:
        actual = sha256_file(path)
        if actual != expected_sha256:
            raise CheckpointError(
                f"checkpoint {path} does not match its recorded hash: expected sha256 {expected_sha256}, "
                f"file has {actual} (truncated or modified)"
            )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, TypeError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"checkpoint {path} is not a loadable weights-only file: {first_line}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} file")
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer version (format {payload['format_version']})")
    return payload


def policy_from_payload(payload: dict[str, Any]) -> TeamPolicy:
    """Rebuilds the policy from its stored constructor arguments, then loads the weights."""
    try:
        policy = TeamPolicy(**payload["policy_args"])
        policy.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"checkpoint weights do not fit its policy arguments: {e}") from None
    return policy.eval()


def load_team(path: str | Path, expected_sha256: str | None = None) -> TeamPolicy:
    """A trained team ready to play: `team.act(observations, deterministic=True)` -> actions dict.

    Example:
        team = load_team("checkpoints/default/alpha/g3-3f1c2a9b7e04.pt")  # `league show` prints the path
        env = games.get(team.game).make_env()
        obs, _ = env.reset(seed=1)
        while env.agents:
            obs, *_ = env.step(team.act(obs))
    """
    payload = load_checkpoint(path, expected_sha256)
    policy = policy_from_payload(payload)
    policy.game, policy.game_kwargs = payload["game"], dict(payload["game_kwargs"])
    return policy
