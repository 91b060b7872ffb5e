"""Self-describing checkpoint files: written atomically, identified by sha256, loaded without running code.

A checkpoint holds everything needed to rebuild and continue a team (nanoGPT / SB3 style): the policy's
constructor arguments, by name (nanoGPT's `model_args`), and weights, the optimizer state, the GRPO config, the
game and its options, and the versions that wrote it. `torch.load(weights_only=True)` only rebuilds tensors
and plain containers, so a file crafted to run code on unpickling is refused instead of executed.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import pickle
import tempfile
import types
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from games.spec import MAX_ACTIONS, MAX_BOX_BOUND
from league.faults import crash_point
from league.files import read_bounded
from league.moves import check_entry
from league.policy import TeamPolicy

FORMAT = "coop-league-checkpoint"
# 2: `policy_args` name each role's network layout (`league.policy.LAYOUTS`); format 1 files list it by position
# and still load (`league.policy.named_layout` reads them). Code that knows only format 1 refuses format 2 files
# as written by a newer version instead of misreading them.
FORMAT_VERSION = 2


MAX_CHECKPOINT_FILE_BYTES = 2**30
"""Largest checkpoint file read: the biggest network the settings allow (`league.resources.check_resources`), with
its optimizer state, is well below it; a path to a device or a huge file is refused before it is read."""


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
    """Everything a checkpoint stores, as tensors and plain containers only (loadable with weights_only); a
    team of a game seen in pictures also records how they were prepared (`frames`, `games.frames.Frames`)."""
    import games

    frames = games.get(game).info(**game_kwargs).frames
    if frames:
        extra = {"frames": frames, **extra}
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


class _ValuePickler(pickle.Pickler):
    """A pickler with its memo off ("fast mode"): pickle normally writes a second reference to the *same
    object* (an interned string, say) as a back-reference, so equal payloads built in different processes
    pickled to different bytes. Without the memo the bytes depend on the values alone. Payloads hold no
    cycles, which is all fast mode cannot do."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fast = True


_value_pickle = types.SimpleNamespace(__name__="pickle", Pickler=_ValuePickler)


def payload_bytes(payload: dict[str, Any]) -> tuple[bytes, str]:
    """A payload as the exact bytes of its checkpoint file, and their sha256: equal payloads give equal bytes
    wherever they are made, so the same seed and config write the same file. Checkpoints travel between
    processes (Ray workers, another machine) as these bytes and are written or loaded only where the hash
    matches."""
    buffer = io.BytesIO()
    torch.save(payload, buffer, pickle_module=_value_pickle)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> str:
    """Writes `payload` to `path` atomically (temporary file in the same folder, fsync, rename, fsync the
    folder) so a crash leaves either the old file or the whole new one. Returns the file's sha256."""
    data, digest = payload_bytes(payload)
    _write_atomic(data, Path(path))
    return digest


def save_generation_checkpoint(path: str | Path, data: bytes, sha256: str) -> Path:
    """Writes a checkpoint's bytes atomically as `<stem>-<sha256[:12]><suffix>` and returns its absolute path:
    leagues of different databases sharing a checkpoint folder never overwrite each other's files, and a file
    left by a crash before its row was committed is never mistaken for a recorded one. The bytes must match
    `sha256` (they may have crossed a network)."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CheckpointError(f"checkpoint for {path} arrived damaged: its bytes do not match sha256 {sha256}")
    path = Path(path).resolve()
    final = path.with_name(f"{path.stem}-{sha256[:12]}{path.suffix}")
    _write_atomic(data, final)
    return final


def _write_atomic(data: bytes, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        crash_point("checkpoint-write")  # the crash tests: a whole temporary file, not yet renamed
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_checkpoint(path: str | Path, expected_sha256: str | None = None) -> dict[str, Any]:
    """Reads a checkpoint; with `expected_sha256` the bytes must match it. Never executes pickled code."""
    return payload_from_bytes(read_checkpoint(path, expected_sha256), None, str(path))


def read_checkpoint(path: str | Path, expected_sha256: str | None = None) -> bytes:
    """A checkpoint file's bytes, to send elsewhere; a missing file, or bytes that do not match
    `expected_sha256`, is a CheckpointError naming the file; so is no path at all (a database row without one)."""
    if path is None or str(path) == "":
        raise CheckpointError("no checkpoint path recorded: nothing to load")
    try:
        data = read_bounded(path, MAX_CHECKPOINT_FILE_BYTES)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise CheckpointError(f"checkpoint not found: {path}") from None
    except ValueError as e:
        raise CheckpointError(f"checkpoint {path} is {e}") from None
    _check_hash(data, expected_sha256, str(path))
    return data


def _check_hash(data: bytes, expected_sha256: str | None, name: str) -> None:
    """Bytes that do not match `expected_sha256` (None: nothing to match) are a CheckpointError naming `name`."""
    if expected_sha256 is not None and (actual := hashlib.sha256(data).hexdigest()) != expected_sha256:
        raise CheckpointError(f"checkpoint {name} does not match its recorded hash: expected sha256 "
                              f"{expected_sha256}, file has {actual} (truncated or modified)")


def payload_from_bytes(data: bytes, expected_sha256: str | None = None, name: str = "checkpoint") -> dict[str, Any]:
    """A checkpoint's payload from its bytes (a file's, or ones sent to a worker), hash checked first; loaded
    with `weights_only=True`, so a crafted file is refused instead of run. `name` is for error messages."""
    _check_hash(data, expected_sha256, name)
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, TypeError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"checkpoint {name} is not a loadable weights-only file: {first_line}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{name} is not a {FORMAT} file")
    version = payload.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise CheckpointError(f"checkpoint {name} has format_version {version!r:.40}, not a whole number")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{name} was written by a newer version (format {version})")
    if not isinstance(payload.get("game"), str) or not isinstance(payload.get("game_kwargs", {}), dict):
        raise CheckpointError(f"checkpoint {name} does not name its game and options")
    return payload


class NonFiniteError(CheckpointError):
    """A generation whose weights, optimizer state or final metrics hold nan or inf: never recorded."""


NOT_MEASURED = frozenset({"mean_return", "score", "partner_return", "self_return"})
"""Final metrics that are nan when there was nothing to measure (no branched path ended yet, no partnered
group): nan is allowed there, inf never."""


def _numbers(value: Any, path: str):
    """(path, value) of every tensor and float inside nested dicts and lists."""
    if isinstance(value, torch.Tensor) or isinstance(value, float):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _numbers(item, f"{path}[{i}]")


def check_finite_generation(data: bytes, metrics: dict[str, Any] | None, name: str) -> None:
    """Refuses to record a poisoned generation: every weight and optimizer number of the checkpoint `data`
    and every final metric (`metrics`, and those the checkpoint stores) must be finite (metrics in
    NOT_MEASURED may be nan). Raises a one-line NonFiniteError naming `name`, the first bad value and what
    to do; call it before the checkpoint is saved, so a diverged run writes nothing and the league keeps
    its last good generation (a later one would train from it)."""
    payload = payload_from_bytes(data, None, name)
    hint = "training diverged; lower lr or max_grad_norm (or raise eps) and run the same command again"
    for part, label in (("state_dict", "weight"), ("optimizer", "optimizer state")):
        for path, value in _numbers(payload.get(part), ""):
            if isinstance(value, torch.Tensor):
                if value.is_floating_point() or value.is_complex():
                    bad = int((~torch.isfinite(value)).sum())
                    if bad:
                        raise NonFiniteError(f"refusing to record {name}: {bad:,} of the {value.numel():,} numbers of "
                                             f"its {label} {path} are nan or inf: {hint}")
            elif not math.isfinite(value):
                raise NonFiniteError(f"refusing to record {name}: its {label} {path} is {value}: {hint}")
    for source in (metrics or {}, payload.get("metrics") or {}):
        for key, value in source.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isfinite(value) and not (
                    key in NOT_MEASURED and math.isnan(value)):
                raise NonFiniteError(f"refusing to record {name}: its final metric {key} is {value}: {hint}")


MAX_AGENTS = 1000
"""Most seats a stored policy may have (no game here has more than a few dozen)."""


def _check_policy_args(args: Any) -> None:
    """Bounds of the stored constructor arguments, checked before anything is built: a tampered file (with a
    valid hash) asking for a billion layers is one line, not a hang. The sizes are GRPOConfig's limits; a
    layout's counts and offsets lie inside its role's observation."""
    from league.limits import LIMITS

    def whole(value: Any, low: int, high: int, what: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise CheckpointError(f"policy argument {what} = {value!r:.40} is not a whole number in "
                                  f"[{low}, {high}]")

    if not isinstance(args, dict):
        raise CheckpointError("no policy arguments")
    for key in ("hidden", "layers", "steer_hidden"):
        if key in args:
            limit = LIMITS[f"grpo.{key}"]
            whole(args[key], int(limit.low), int(limit.high), key)
    agents, obs_dims, n_actions = args.get("agents"), args.get("obs_dims"), args.get("n_actions")
    if not (isinstance(agents, list) and 1 <= len(agents) <= MAX_AGENTS and all(isinstance(a, str) for a in agents)):
        raise CheckpointError(f"policy argument agents is not a list of 1 to {MAX_AGENTS} names")
    for what, table, high in (("obs_dims", obs_dims, 10**6), ("n_actions", n_actions, MAX_ACTIONS)):
        if not isinstance(table, dict) or not table:
            raise CheckpointError(f"policy argument {what} is not a table of roles")
        for role, value in table.items():
            whole(value, 1, high, f"{what}.{role}")
    for kind in ("targets", "entities"):
        layouts = args.get(kind) or {}
        if not isinstance(layouts, dict) or not set(layouts) <= set(obs_dims):
            raise CheckpointError(f"policy argument {kind} is not a table of its roles")
        for role, layout in layouts.items():
            values = layout.values() if isinstance(layout, dict) else layout if isinstance(layout, list) else [None]
            for value in values:
                if isinstance(value, bool) or isinstance(value, float) and math.isfinite(value) and abs(value) <= 1e6:
                    continue  # `scored`, `aspect`
                whole(value, 0, obs_dims[role], f"{kind}.{role}")
    def role_table(kind: str) -> dict[str, Any]:
        table = args.get(kind) or {}
        if not isinstance(table, dict) or not set(table) <= set(obs_dims) or not set(table) <= set(n_actions):
            raise CheckpointError(f"policy argument {kind} is not a table of its roles")
        return table

    for role, start in role_table("masks").items():  # the mask lies inside the observation
        whole(start, 0, obs_dims[role] - n_actions[role], f"masks.{role}")
    for role, entry in role_table("moves").items():
        wrong = check_entry(entry, obs_dims[role], n_actions[role])
        if wrong:
            raise CheckpointError(f"policy argument moves.{role} {wrong}")
    for role, shape in role_table("images").items():  # (C, H, W) of the role's whole observation
        fits = isinstance(shape, list) and len(shape) == 3 and all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in shape)
        if not fits or math.prod(shape) != obs_dims[role]:
            raise CheckpointError(f"policy argument images.{role} = {shape!r:.40} is not the (channels, height, "
                                  f"width) of its {obs_dims[role]} observations")
    boxes = role_table("boxes")
    if boxes and set(boxes) != set(n_actions):
        raise CheckpointError(f"policy argument boxes names roles {sorted(boxes)}, not every role "
                              f"{sorted(n_actions)}")
    for role, box in boxes.items():  # each role's bounds: as many as its numbers, finite, low < high
        bounds = [box.get(k) for k in ("low", "high")] if isinstance(box, dict) and set(box) == {"low", "high"} else []
        fits = len(bounds) == 2 and all(isinstance(b, list) and len(b) == n_actions[role] for b in bounds) and all(
            isinstance(v, float) and math.isfinite(v) and abs(v) <= MAX_BOX_BOUND for b in bounds for v in b)
        if not fits or not all(lo < hi for lo, hi in zip(*bounds)):
            raise CheckpointError(f"policy argument boxes.{role} = {box!r:.60} is not {n_actions[role]} finite low "
                                  f"< high bounds within +-{MAX_BOX_BOUND:g}")


def _check_fits_game(payload: dict[str, Any], info: Any, name: str) -> None:
    """A team reads the game's observations as they are now: the same seats, observation sizes and actions,
    and pictures of the same shape, prepared the same way (`games.frames`); one line if not (a checkpoint
    changed by hand, or a game whose declared preparation changed since)."""
    args = payload.get("policy_args")
    if not isinstance(args, dict):
        return  # `_check_policy_args` says what is wrong
    images = {role: list(shape) for role, shape in info.images.items()}
    stored_images = args.get("images") or {}
    cnn = images if stored_images else {}  # a team may read pictures with a plain MLP (`architecture = "mlp"`)
    if stored_images != cnn or payload.get("frames", {}) != info.frames:
        trained = _pictures(stored_images or images, payload.get("frames"))
        raise CheckpointError(f"{name} was trained on {trained}; the game gives {_pictures(images, info.frames)}")
    for key, expected in (("agents", list(info.agents)), ("obs_dims", dict(info.obs_dims)),
                          ("n_actions", dict(info.n_actions))):
        if args.get(key) != expected:
            raise CheckpointError(f"{name} was trained on {key} {args.get(key)!r:.80}; the game gives "
                                  f"{expected!r:.80}")


def _pictures(shapes: dict[str, list[int]], frames: Any) -> str:
    """'pictures lamp 2x16x16 (grey 16x16, 2 frames)', or 'no pictures', for a message."""
    from games.frames import Frames

    if not shapes:
        return "no pictures"
    try:
        how = Frames(**frames).describe() if Frames(**frames).problem() is None else None
    except TypeError:
        how = None
    shown = ", ".join(f"{role} {'x'.join(map(str, shape))}" for role, shape in shapes.items())
    if how is None:
        how = "prepared in no recorded way" if frames is None else f"prepared as {frames!r:.60}"
    return f"pictures {shown} ({how})"


def check_identity(payload: dict[str, Any], name: str) -> None:
    """A league's checkpoint says which generation it is (`league/team/gN`): a row pointing at another
    generation's file (with its hash) would otherwise play, and be rated, as `name`."""
    if {"league", "team", "generation"} <= set(payload):
        stored = f"{payload['league']}/{payload['team']}/g{payload['generation']}"
        if stored != name:
            raise CheckpointError(f"{name} points at the checkpoint of {stored} (its row was changed outside "
                                  f"coop-league)")


def check_payload(payload: dict[str, Any], game: str | None = None, game_kwargs: dict[str, Any] | None = None,
                  name: str = "checkpoint") -> None:
    """Refuses, in one CheckpointError line naming `name`, a payload whose policy cannot be rebuilt as stored:
    with `game`, one trained on another game or other options than `game_kwargs` (a league's: it would play a
    game whose observations it cannot read); constructor arguments out of bounds; weights of other names, shapes
    or types than the network the arguments describe, laid out on the meta device (no memory) so nothing is
    allocated first; weights holding nan or inf."""
    if game is not None:
        import games

        spec = games.get(game)
        stored = (payload["game"], spec.resolve_kwargs(payload["game_kwargs"]) if payload["game"] == game else None)
        if stored != (game, spec.resolve_kwargs(game_kwargs)):
            raise CheckpointError(f"{name} was trained on {payload['game']} {dict(payload['game_kwargs'])}, "
                                  f"not on this league's {game} {dict(game_kwargs or {})}")
    args, weights = payload.get("policy_args"), payload.get("state_dict")
    try:
        _check_policy_args(args)
    except CheckpointError as e:
        raise CheckpointError(f"{name}: {e}") from None
    if game is not None:
        _check_fits_game(payload, spec.info(**game_kwargs), name)
    try:
        with torch.device("meta"):
            layout = TeamPolicy(**args).state_dict()
        shapes = {k: (tuple(v.shape), v.dtype) if isinstance(v, torch.Tensor) else None
                  for k, v in (weights.items() if isinstance(weights, dict) else ())}
        expected = {k: (tuple(v.shape), v.dtype) for k, v in layout.items()}
        if shapes != expected:
            missing = sorted(set(expected) ^ set(shapes)) or [k for k in expected if expected[k] != shapes[k]]
            raise ValueError(f"{len(missing)} tensor(s) missing, extra or of another shape or type (first: "
                             f"{missing[0]})")
    except (RuntimeError, KeyError, TypeError, ValueError) as e:
        detail = " ".join(line.strip() for line in str(e).splitlines()[:2])  # torch lists every mismatch, a line each
        raise CheckpointError(f"{name}: its weights do not fit its policy arguments: {detail}") from None
    bad = [k for k, v in weights.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(f"{name}: its weights {bad[0]} hold nan or inf (the file was changed after it was "
                              f"recorded)")


def policy_from_payload(payload: dict[str, Any], game: str | None = None, game_kwargs: dict[str, Any] | None = None,
                        name: str = "checkpoint") -> TeamPolicy:
    """Rebuilds the policy from its stored constructor arguments, then loads the weights, once `check_payload`
    (with `game` and `game_kwargs`, a league's, and `name` for its messages) has found they fit."""
    check_payload(payload, game, game_kwargs, name)
    policy = TeamPolicy(**payload["policy_args"])
    policy.load_state_dict(payload["state_dict"])
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
