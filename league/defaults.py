"""GRPO settings for a game that declares nothing: your own game, named by entry point, with no preset and no
batched core, so it trains on the generic vector runner (`games.vector.VectorBatch`: B real PettingZoo envs
stepped in a Python loop) with the plain MLP.

The defaults in `league.config.GRPOConfig` suit the built-in games on their batched cores, which step tens of
thousands of games a second: 32 groups of 16 is a 10,240-step update for a 20-step game, played in a fraction
of a second, and one pass over it is enough because fresh rollouts are cheap. On the vector runner the env is
the cost (a few thousand steps a second for a small Python game), so the same update takes seconds and a run
of 5 minutes makes only 50 to 100 of them. The cure is the usual one where samples are dear: more updates per
env step and more use of each step.

- **About 1,280 env steps per update** (`STEPS_PER_UPDATE`): groups of 8 rollouts, as many groups as fill
  1,280 steps of the game's horizon, 4 to 32 of them (4 keeps enough start states in a long game's update).
- **8 passes over each batch, in one minibatch** (PPO's reuse of samples; the clipped ratio keeps the later
  passes near the policy that played).
- **One torch thread**: the network and its batches are small (64 rollouts of an MLP 64 wide), so extra
  threads do not speed up the matrix products and, on a machine whose cores are busy, wait on each other.

Measured on cover and guide (docs/examples; docs/training.md, "Your own game's defaults"). Nothing here depends on the
meaning of the observation, only on the horizon, the number of agents, whether the game has a batched core, whether
it acts with numbers and whether it is seen in pictures:
- **Box actions** (`BOX_SETTINGS`): half the passes, a quarter of `league.config.BOX_LR`, and gamma 0.98. Measured
  on multiwalker (docs/performance.md): with 8 passes at BOX_LR each update moved the Gaussians' means by more
  than their spread (KL to the start above 1) and every path fell (-100) for 7.5 minutes; with gamma 0.8 a fall's
  -100 reaches back only a few steps (0.8^10 = 0.1). With the three together most teams keep the package up from
  10 minutes on (measured together, not one by one).
- **Pictures** (`PICTURE_NUMBERS`, `PICTURE_MINIBATCH`): as many rollouts as keep an update's observations
  within PICTURE_NUMBERS (at least one group of 2) and CNN minibatches of PICTURE_MINIBATCH agent-steps. Why:
  pistonball's 20 pistons each see 84x84x4 numbers a step, so 4 groups of 8 made a 28.5 GiB update, refused.
"""

from __future__ import annotations

from typing import Any

import games
from games.spec import GameInfo, GameSpec

STEPS_PER_UPDATE = 1280
"""Env steps one update plays, roughly (groups are whole): a few updates a second on the vector runner."""
GROUP_SIZE = 8
"""G: rollouts per start state."""
MIN_GROUPS, MAX_GROUPS = 4, 32
"""Fewest start states per update (long games) and most (games of a step or two)."""
EPOCHS = 8
"""Passes over each batch of rollouts."""
BOX_SETTINGS = {"epochs": 4, "lr": 0.0005, "gamma": 0.98}
"""What a game of Box actions on the vector runner gets instead (see the module docstring)."""
PICTURE_NUMBERS = 2**27
"""Most observation numbers one update of a game seen in pictures keeps (0.5 GiB as float32; the rollout and its
flat copy: 1 GiB)."""
PICTURE_MINIBATCH = 1024
"""Agent-steps per gradient step for a game seen in pictures: a minibatch's CNN activations at 84x84 take about
0.8 GiB."""
MAX_MINIBATCH = 16384
"""Most agent-steps per gradient step (`GRPOConfig.minibatch_size`'s default): a long game's batch is split."""


def generic_preset(spec: GameSpec, info: GameInfo) -> dict[str, Any]:
    """GRPO settings (`GRPOConfig` field -> value) for a game that declares no preset and has no batched core,
    chosen from its horizon and number of agents; `{}` for every other game (the built-in ones included, so
    they keep their settings exactly).

    groups = clamp(round(STEPS_PER_UPDATE / (GROUP_SIZE * horizon)), MIN_GROUPS, MAX_GROUPS), and the minibatch
    is the whole batch (groups * GROUP_SIZE * horizon agent-steps per agent) up to MAX_MINIBATCH; a game of Box
    actions gets BOX_SETTINGS too, and a game seen in pictures fewer and smaller groups (PICTURE_NUMBERS)."""
    if spec.preset or spec.batch_core is not None:
        return {}
    horizon, agents = max(1, int(info.horizon)), len(info.agents)
    groups = min(MAX_GROUPS, max(MIN_GROUPS, round(STEPS_PER_UPDATE / (GROUP_SIZE * horizon))))
    size, minibatch = GROUP_SIZE, MAX_MINIBATCH
    if info.images:  # rollouts that fit PICTURE_NUMBERS: fewer groups first, then smaller ones
        fit = PICTURE_NUMBERS // (horizon * agents * info.max_obs_dim)
        size = min(GROUP_SIZE, max(2, fit))
        groups, minibatch = min(groups, max(1, fit // size)), PICTURE_MINIBATCH
    return {
        "groups": groups,
        "group_size": size,
        "epochs": EPOCHS,
        "minibatch_size": min(minibatch, groups * size * horizon * agents),
        "threads": 1,
        **(BOX_SETTINGS if info.continuous else {}),
    }


def generic_preset_for(data: dict[str, Any]) -> dict[str, Any]:
    """`generic_preset` of the game (and options) that GRPO settings `data` name; `{}` when they name none (the
    default game is a built-in one) or one that cannot be loaded, so validating the settings reports that in
    its own words."""
    if not isinstance(data.get("game"), str):
        return {}
    try:
        spec = games.get(data["game"])
        return generic_preset(spec, spec.info(**data.get("game_kwargs", {})))
    except (games.GameError, TypeError, ValueError):  # bad options: validation says so in its own words
        return {}
