"""What a config adds up to: its network's parameters, one update's memory, a league's checkpoint disk. Estimated
from the settings and the game before anything is allocated or written, and refused with one line when it would
not fit (`ResourceError`), so a typo of `hidden = 100000` fails at once instead of after minutes of swapping.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

from league.limits import ConfigError

# Far above this project's networks (thousands to tens of thousands of parameters) and rollouts (the largest
# preset keeps about 0.3 GiB of observations per update).
MAX_PARAMETERS = 10_000_000
"""Most parameters of a team's network (a checkpoint stores 12 bytes each with its Adam state: 120 MB)."""
MAX_TRAINING_BYTES = 16 * 2**30
"""Most memory one update may need (rollout, its flattened copy, activations, weights and optimizer state);
lower where the machine has less (`memory_limit`)."""
MAX_CHECKPOINT_BYTES = 64 * 2**30
"""Most disk a league's checkpoints may take in all (every team's g0 .. gN)."""
CHECKPOINT_BYTES_PER_PARAMETER = 12
"""Weights and Adam's two moments, float32."""


class ResourceError(ConfigError):
    """Settings whose network or rollouts would not fit (`check_resources`): refused before anything is
    allocated or written."""


@dataclass(frozen=True)
class Resources:
    """What one team's training needs, estimated from its settings and the game before anything is made."""

    parameters: int
    """Parameters of the team's network (built on torch's meta device: exact, nothing allocated)."""
    checkpoint_size: int
    """Bytes of one generation's checkpoint: weights and Adam's two moments, float32."""
    rollout_numbers: int
    """Observation numbers one update keeps: groups x group_size x steps x agents x observation width."""
    training_bytes: int
    """Memory one update needs: the rollout and its flattened copy, per-step tensors, the reference pass's
    and a minibatch's activations, weights, gradients, optimizer and reference copies."""


def size_text(n: float) -> str:
    """Bytes as a person reads them: 1.5 GiB, 12.0 KiB, 300 bytes."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{int(n)} bytes"


def memory_limit() -> int:
    """MAX_TRAINING_BYTES, or 80% of this machine's memory where that is less."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return MAX_TRAINING_BYTES
    return min(MAX_TRAINING_BYTES, int(physical * 0.8)) if physical > 0 else MAX_TRAINING_BYTES


@functools.lru_cache(maxsize=256)
def _parameters(game: str, kwargs_key: tuple[tuple[str, Any], ...], hidden: int, layers: int, auto: bool,
                steer_hidden: int) -> int:
    import games
    import torch

    from league.policy import TeamPolicy

    info = games.get(game).info(**dict(kwargs_key))
    with torch.device("meta"):  # shapes only: no memory, no initialization work
        policy = TeamPolicy.for_game(info, hidden, layers, auto, steer_hidden)
    return sum(p.numel() for p in policy.parameters())


def network_parameters(cfg: Any) -> int:
    """Parameters of the network `cfg` (a GRPOConfig) trains; built on torch's meta device once per shape."""
    kwargs_key = tuple(sorted((k, v) for k, v in cfg.game_kwargs.items()))
    return _parameters(cfg.game, kwargs_key, cfg.hidden, cfg.layers, cfg.architecture == "auto", cfg.steer_hidden)


def check_resources(cfg: Any, info: Any = None) -> Resources:
    """What training `cfg` (a GRPOConfig) needs, from its settings and the game's `info` (its agents,
    observation and action sizes; looked up when None); a network above MAX_PARAMETERS or an update above
    `memory_limit()` is a one-line ResourceError that names the settings and the limit. Nothing is allocated:
    call it at the edge, before anything is written (`GRPOConfig.validate` does)."""
    import games
    from games.spec import Moves
    from league.moves import READERS
    from league.policy import conv_layers

    if info is None:
        try:
            info = games.get(cfg.game).info(**cfg.game_kwargs)
        except games.GameError as e:
            raise ConfigError(str(e), "game") from None
    parameters = network_parameters(cfg)
    checkpoint = parameters * CHECKPOINT_BYTES_PER_PARAMETER
    if parameters > MAX_PARAMETERS:
        raise ResourceError(f"{cfg.game} with hidden {cfg.hidden}, layers {cfg.layers}, steer_hidden "
                            f"{cfg.steer_hidden}: the team network has {parameters:,} parameters (a "
                            f"{size_text(checkpoint)} checkpoint per generation), above the limit of "
                            f"{MAX_PARAMETERS:,}: lower hidden, layers or steer_hidden", "hidden")
    M, G, n, D = cfg.groups, cfg.group_size, len(info.agents), info.max_obs_dim
    T = min(cfg.branch_every or info.horizon, info.horizon)  # steps per update
    agent_steps = M * G * T * n
    numbers = agent_steps * D
    width = cfg.hidden  # widest activation per agent-step: a net's hidden layer, or the per-target nets'
    if cfg.architecture == "auto":
        for role, targets in info.targets.items():
            if isinstance(targets, Moves):  # every move's features and its score net's hidden layer
                features = READERS[targets.reader][1].width
                width = max(width, info.n_actions[role] * (features + cfg.steer_hidden))
            else:
                width = max(width, (targets.count + 1) * cfg.steer_hidden)
    actions = max(info.n_actions.values())
    # a picture's CNN activations per agent-step (`league.policy.conv_layers`): a minibatch's graph and a
    # reference chunk hold them
    images = getattr(info, "images", {}) if cfg.architecture == "auto" else {}  # "mlp": no CNN
    conv = max((sum(c * h * w for c, h, w in conv_layers(shape)) for shape in images.values()), default=0)
    memory = (2 * numbers * 4  # the rollout and its flattened copy, float32
              + agent_steps * (48 + 4 * actions + 8 * width)  # per-step tensors, the reference pass
              + agent_steps * 8 * actions * info.continuous  # Box actions: the numbers and their flat copy, float32
              + min(cfg.minibatch_size, agent_steps) * width * cfg.layers * 12  # a minibatch's graph
              + min(cfg.minibatch_size, agent_steps) * conv * 4 * 4  # its CNN: outputs, ReLUs, gradients, reference
              + parameters * 4 * 6)  # weights, gradients, Adam's moments, the reference, a spare copy
    limit = memory_limit()
    if memory > limit:
        raise ResourceError(f"groups {M} x group_size {G} x {T} steps x {n} agents x {D} observations = "
                            f"{numbers:,} numbers per update (with hidden {cfg.hidden}, minibatch_size "
                            f"{cfg.minibatch_size}: about {size_text(memory)} of memory to train), above the "
                            f"{size_text(limit)} limit: lower groups, group_size, branch_every, hidden or "
                            f"minibatch_size", "groups")
    return Resources(parameters, checkpoint, numbers, memory)


def check_league_disk(teams: int, generations: int, parameters: int) -> None:
    """A league of `teams` x (`generations` + 1) checkpoints of a `parameters`-parameter network (the largest of
    its teams') within MAX_CHECKPOINT_BYTES, else a one-line ResourceError."""
    checkpoint = parameters * CHECKPOINT_BYTES_PER_PARAMETER
    disk = checkpoint * teams * (generations + 1)
    if disk > MAX_CHECKPOINT_BYTES:
        raise ResourceError(f"{teams} team(s) x {generations + 1} generations x {size_text(checkpoint)} checkpoints "
                            f"(a {parameters:,}-parameter network) = {size_text(disk)} of checkpoints, above the "
                            f"{size_text(MAX_CHECKPOINT_BYTES)} limit: lower generations, teams or the network "
                            f"size", "generations")
