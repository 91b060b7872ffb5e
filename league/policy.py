"""The team policy: one network per role, shared by that role's agents, told apart by an agent-id one-hot.

A role's network is a plain MLP, or, where the game lists places to head for in the observation
(`games.spec.Targets`, e.g. simple_spread's landmarks), a `ChooseAndSteer` mixture: one net picks a target,
a small shared net steers toward it (`MoveAndSay` where each action is a move and a word at once); where the
observation is a table of entities with targets among them (`games.spec.Entities`, knights_archers_zombies'
zombies), a `ChooseAndAct` mixture: one net picks a target row, a small shared net acts on it. A plain MLP
must compute "which landmark is mine" and then select that landmark's coordinates (a product of a discrete
choice and a position, which MLPs fit poorly); the mixture makes that selection part of the architecture and
leaves both the choice and the steering to be learned.

Works on the batched arrays of `games` (`(B, n_agents, obs_dim)`, roles with shorter observations 0-padded) and,
through `act`, on PettingZoo's dict of observations, so a trained team plays in any script that makes the env.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch import nn

from games.spec import Entities, Moves, Targets, role_of, seat_bounds
from games.vector import batchify
from league import box_actions
from league import moves as move_readers

# Logit for action slots a role does not have (roles with fewer actions are padded to the widest role).
MISSING_ACTION = -1e9

# The names (and types) of a role's layout in `TeamPolicy.args`, as checkpoints store them: `targets` are the
# fields of `games.spec.Targets`, `entities` those of `games.spec.Entities` and `scored` (the act net also scores
# its row; every `for_game` policy has it, checkpoints from before it do not).
LAYOUTS: dict[str, dict[str, type]] = {
    "targets": {"velocity": int, "first": int, "count": int, "teammates": int, "teammate_count": int, "moves": int},
    "entities": {"own": int, "first": int, "count": int, "width": int, "aspect": float, "scored": bool},
}
# What checkpoints that stored a layout as a positional list (in the order of `LAYOUTS`) meant by the entries
# their shorter lists leave out: the lengths they wrote, and the value of each missing name.
_OLD_LENGTHS = {"targets": (5, 6), "entities": (4, 5, 6)}
_OLD_MISSING = {"targets": {"moves": 0}, "entities": {"aspect": 0.0, "scored": False}}


def named_layout(kind: str, layout: Mapping[str, Any] | Sequence[float]) -> dict[str, Any]:
    """A role's `kind` ("targets" or "entities") layout by name, the form `TeamPolicy.args` stores (nanoGPT's
    named `model_args`); a dict passes through with its values cast, an old checkpoint's positional list is
    named here and nowhere else. The lists old checkpoints hold:

    targets  [velocity, first, count, teammates, teammate_count]         moves 0: ChooseAndSteer
             [velocity, first, count, teammates, teammate_count, moves]  MoveAndSay (simple_reference)
    entities [own, first, count, width]                   aspect 0.0 (no aiming inputs), scored False
             [own, first, count, width, aspect]           scored False (no row scores itself)
             [own, first, count, width, aspect, scored]   scored written as 1.0

    A dict must name exactly the keys of `LAYOUTS[kind]`; any other dict or list length is a ValueError."""
    names = LAYOUTS[kind]
    if isinstance(layout, Mapping):
        if set(layout) != set(names):
            raise ValueError(f"{kind} layout {dict(layout)} does not name exactly {', '.join(names)}")
        values = dict(layout)
    elif len(layout) in _OLD_LENGTHS[kind]:
        values = {**_OLD_MISSING[kind], **dict(zip(names, layout))}
    else:
        raise ValueError(f"{kind} layout {list(layout)} has {len(layout)} numbers; old checkpoints list "
                         f"{' or '.join(map(str, _OLD_LENGTHS[kind]))} ({', '.join(names)})")
    return {name: cast(values[name]) for name, cast in names.items()}


def mlp(inputs: int, hidden: int, layers: int, outputs: int, activation: type[nn.Module] = nn.Tanh) -> nn.Sequential:
    """MLP; the last layer starts small so the untrained policy is close to uniform (generation 0)."""
    dims = [inputs] + [hidden] * layers
    blocks: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        blocks += [nn.Linear(a, b), activation()]
    head = nn.Linear(dims[-1], outputs)
    nn.init.orthogonal_(head.weight, gain=0.01)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*blocks, head)


def conv_layers(image: Sequence[int]) -> list[tuple[int, int, int]]:
    """The `(channels, height, width)` after each of `ImageNet`'s convolutions of a `(C, H, W)` picture: 3x3,
    stride 2, 16 then 32 channels, until a side is 8 or less (at most 4: 84x84 -> 42, 21, 11, 6)."""
    _, h, w = image
    out: list[tuple[int, int, int]] = []
    while min(h, w) > 8 and len(out) < 4:
        h, w = (h + 1) // 2, (w + 1) // 2
        out.append((16 if not out else 32, h, w))
    return out


class ImageNet(nn.Module):
    """A role whose observation is a picture (`games.frames`: `(C, H, W)` in [0, 1], flat): a small CNN, its
    features (one `hidden` layer) and the agent-id one-hot, then an MLP to the actions. The convolutions are
    3x3 stride 2 so any picture of 8 pixels or more fits (CleanRL's Nature CNN needs 36); at 84x84 they cost
    about what that CNN does (7.5 M multiply-adds per observation)."""

    def __init__(self, image: Sequence[int], ids: int, hidden: int, layers: int, outputs: int,
                 activation: type[nn.Module] = nn.Tanh) -> None:
        super().__init__()
        self.image = tuple(int(v) for v in image)
        blocks: list[nn.Module] = []
        channels = self.image[0]
        for out_channels, _, _ in conv_layers(self.image):
            blocks += [nn.Conv2d(channels, out_channels, 3, stride=2, padding=1), nn.ReLU()]
            channels = out_channels
        c, h, w = (conv_layers(self.image) or [self.image])[-1]
        self.conv = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(c * h * w, hidden), nn.ReLU())
        self.head = mlp(hidden + ids, hidden, max(layers - 1, 0), outputs, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x `(..., C*H*W + ids)` -> `(..., outputs)`."""
        size = int(np.prod(self.image))
        lead = x.shape[:-1]
        pixels = x[..., :size].reshape(-1, *self.image)  # (N, C, H, W)
        features = self.conv(pixels).reshape(*lead, -1)  # (..., hidden)
        return self.head(torch.cat([features, x[..., size:]], dim=-1))


class ChooseAndSteer(nn.Module):
    """pi(a | o) = sum_k p(k | o) * steer(a | own velocity, teammates, target_k): a mixture over the K
    targets listed in the observation. `choose` scores the targets from the whole observation, the agent id
    and every distance between a target and an agent (self and teammates: who is closer to what is the crux
    of sharing targets out, and an MLP computes distances from coordinates poorly). `steer` is one small net
    shared by all targets, so what it learns about braking (and teammates in the way) on one holds for all.
    Both are learned from the game's reward; nothing is scripted. Sampling draws from the mixture itself, so
    exploring also tries other targets. ReLU: tanh dominated the CPU time of a training step."""

    def __init__(self, obs_dim: int, ids: int, targets: Targets, hidden: int, layers: int,
                 steer_hidden: int, n_actions: int) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.velocity, self.first, self.count = targets.velocity, targets.first, targets.count
        self.teammates, self.teammate_count = targets.teammates, targets.teammate_count
        distances = self.count * (1 + self.teammate_count)
        self.choose = mlp(obs_dim + ids + distances, hidden, layers, self.count, nn.ReLU)
        self.steer = mlp(4 + 2 * self.teammate_count, steer_hidden, layers, n_actions, nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x `(..., obs_dim + ids)` (observation, then agent id one-hot) -> action log-probs `(..., A)`."""
        log_choice, steer = self.parts(x)  # (..., K), (..., K, A)
        return torch.logsumexp(log_choice.unsqueeze(-1) + torch.log_softmax(steer, -1), dim=-2)  # (..., A)

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x `(..., obs_dim + ids)` -> the choice's log-probs `(..., K)` and the steer net's outputs for each
        target `(..., K, A)`: logits of the moves, or, in a game of Box actions, the means of the numbers
        (`league.box_actions`)."""
        obs = x[..., : self.obs_dim]
        places = obs[..., self.first : self.first + 2 * self.count].unflatten(-1, (self.count, 2))  # (..., K, 2)
        mates = obs[..., self.teammates : self.teammates + 2 * self.teammate_count]
        mates = mates.unflatten(-1, (self.teammate_count, 2))  # (..., J, 2)
        agents = torch.cat([torch.zeros_like(places[..., :1, :]), mates], -2)  # (..., 1 + J, 2) self at 0
        distances = (places.unsqueeze(-3) - agents.unsqueeze(-2)).norm(dim=-1).flatten(-2)  # (..., (1 + J) K)
        log_choice = torch.log_softmax(self.choose(torch.cat([x, distances], -1)), -1)  # (..., K)
        own = torch.cat([obs[..., self.velocity : self.velocity + 2], mates.flatten(-2)], -1)  # (..., 2 + 2J)
        own = own.unsqueeze(-2).expand(*places.shape[:-1], own.shape[-1])  # (..., K, 2 + 2J)
        return log_choice, self.steer(torch.cat([own, places], -1))  # (..., K), (..., K, A)


class ChooseAndAct(nn.Module):
    """pi(a | o) = sum_k p(k | o) * act(a | own row, row_k) + p(none | o) * act(a | own row, nothing): a mixture
    over the target rows of an entity table (knights_archers_zombies' zombies). `choose` scores the targets
    present (a row of zeros is an empty slot and gets no weight) and "none" from the whole observation and the
    agent id; `act` is one small net shared by all targets that sees the agent's own row (position, heading)
    and one target's row (distance, offset, heading), so aiming at one zombie is learned for all of them. As in
    `ChooseAndSteer`, a plain MLP would have to pick a zombie and then route that zombie's numbers to the
    aiming; here the choice is part of the architecture and both halves are learned from the reward. The act
    net also scores its row (one more output, added to `choose`'s score of that slot): `choose` sees zombies
    by slot, and slots follow spawn order, so what it learns of one slot ("a zombie low on the screen comes
    first") holds for no other; the row's own score holds for every zombie wherever it is listed."""

    def __init__(self, obs_dim: int, ids: int, entities: Entities, hidden: int, layers: int,
                 act_hidden: int, n_actions: int, *, scored: bool) -> None:
        """`scored`: the act net has the extra output that scores its row (teams from before it have not)."""
        super().__init__()
        self.obs_dim = obs_dim
        self.own, self.first, self.count, self.width = entities.own, entities.first, entities.count, entities.width
        # Aiming features (aspect 0: none, as in checkpoints made before them): how far the agent's heading is
        # from the direction of each row, as the cross and dot products of the two unit vectors.
        self.aspect = float(entities.aspect)
        aim = 2 if self.aspect else 0
        self.scored = bool(scored)
        self.n_actions = n_actions
        if obs_dim % self.width or self.first + self.count > obs_dim // self.width:
            raise ValueError(f"a {obs_dim}-number observation has no rows {self.first}..{self.first + self.count} "
                             f"of width {self.width}")
        self.choose = mlp(obs_dim + ids, hidden, layers, self.count + 1, nn.ReLU)
        self.act = mlp(2 * self.width + 1 + aim, act_hidden, layers, n_actions + int(self.scored), nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x `(..., obs_dim + ids)` (observation, then agent id one-hot) -> action log-probs `(..., A)`."""
        table = x[..., : self.obs_dim].unflatten(-1, (self.obs_dim // self.width, self.width))  # (..., rows, W)
        rows = table[..., self.first : self.first + self.count, :]  # (..., K, W)
        present = rows.abs().sum(-1) > 0  # (..., K)
        # Slots past the last one any row fills are empty everywhere and weigh nothing: leave them out (the game
        # fills slots first to last, so this mostly halves the work; the result is the same up to rounding).
        filled = present.reshape(-1, self.count).any(0).nonzero()
        used = int(filled.max()) + 1 if len(filled) else 0
        logits = self.choose(x)  # (..., K + 1), last: none
        logits = torch.cat([logits[..., :used], logits[..., -1:]], -1)  # (..., U + 1)
        rows = torch.cat([rows[..., :used, :], torch.zeros_like(rows[..., :1, :])], -2)  # (..., U + 1, W) last: none
        present = torch.cat([present[..., :used], torch.ones_like(present[..., :1])], -1)  # (..., U + 1)
        own = table[..., self.own : self.own + 1, :].expand_as(rows)  # (..., U + 1, W)
        flag = present.to(x.dtype).clone()
        flag[..., -1] = 0.0  # "none" is always possible but is no target
        features = [own, rows, flag.unsqueeze(-1)]
        if self.aspect:
            offset = rows[..., 1:3] * rows.new_tensor([1.0, self.aspect])  # (..., U + 1, 2) true proportions
            unit = offset / offset.norm(dim=-1, keepdim=True).clamp(min=1e-6)
            heading = own[..., 3:5]  # (..., U + 1, 2) a unit vector
            cross = heading[..., 0] * unit[..., 1] - heading[..., 1] * unit[..., 0]  # sin of the angle to turn
            features.append(torch.stack([cross, (heading * unit).sum(-1)], -1))  # (..., U + 1, 2)
        out = self.act(torch.cat(features, -1))  # (..., U + 1, A + scored)
        if self.scored:
            logits = logits + out[..., -1]  # the row's own score of itself
        log_choice = torch.log_softmax(logits.masked_fill(~present, MISSING_ACTION), -1)  # (..., U + 1)
        log_act = torch.log_softmax(out[..., : self.n_actions], -1)  # (..., U + 1, A)
        return torch.logsumexp(log_choice.unsqueeze(-1) + log_act, dim=-2)  # (..., A)


class MoveAndSay(nn.Module):
    """pi(move + moves * word | o) = pi_move(move | o) * pi_word(word | o), for a role whose one Discrete action
    is a move and a word at once (simple_reference: 5 x 10 = 50). The move is a `ChooseAndSteer` mixture over
    the landmarks (its `choose` reads the heard word, so "go where my partner says" is one choice); the word is
    a plain MLP head (what to say depends on the goal colour the agent sees). Factored, each half is learned
    from the credit of 50 actions pooled into 5 and 10, instead of 50 logits that must each learn the same
    move for every word."""

    def __init__(self, obs_dim: int, ids: int, targets: Targets, hidden: int, layers: int,
                 steer_hidden: int, n_actions: int) -> None:
        super().__init__()
        self.moves = targets.moves
        if self.moves < 1 or n_actions % self.moves:
            raise ValueError(f"{n_actions} actions are not moves x words with {self.moves} moves")
        self.move = ChooseAndSteer(obs_dim, ids, targets, hidden, layers, steer_hidden, self.moves)
        self.say = mlp(obs_dim + ids, hidden, layers, n_actions // self.moves, nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x `(..., obs_dim + ids)` -> action log-probs `(..., words * moves)`, action = move + moves * word."""
        log_move = self.move(x)  # (..., M), already log-probs
        log_word = torch.log_softmax(self.say(x), -1)  # (..., W)
        return (log_word.unsqueeze(-1) + log_move.unsqueeze(-2)).flatten(-2)  # (..., W * M)


class ScoreMoves(nn.Module):
    """logit(a | o) = whole(o)[a] + score(features of move a): a plain MLP on the whole observation, plus one small
    net shared by every move that scores it from what it would do (`league.moves`: for Hanabi, the chance the
    card played is playable, how many of the partner's playable cards a hint names, ...). The shared net learns
    once what makes a play safe or a hint useful and applies it to every slot and every colour; an MLP on the
    raw bits must learn it anew for each. Both parts learn from the game's score; nothing says which move is
    good. Both start near 0, so an untrained team plays every legal move alike."""

    def __init__(self, obs_dim: int, ids: int, entry: dict[str, Any], hidden: int, layers: int,
                 steer_hidden: int, n_actions: int) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.features = move_readers.reader(entry)
        self.whole = mlp(obs_dim + ids, hidden, layers, n_actions, nn.ReLU)
        self.score = mlp(self.features.width, steer_hidden, layers, 1, nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x `(..., obs_dim + ids)` (observation, then agent id one-hot) -> action logits `(..., A)`."""
        per_move = self.features(x[..., : self.obs_dim])  # (..., A, F)
        return self.whole(x) + self.score(per_move).squeeze(-1)


class TeamPolicy(nn.Module):
    """Actions for every seat of a team: discrete choices, or, in a game of Box actions, numbers
    (`league.box_actions`). Rebuilt from its `args` (stored in checkpoints)."""

    def __init__(
        self,
        agents: list[str],
        obs_dims: dict[str, int],
        n_actions: dict[str, int],
        hidden: int = 128,
        layers: int = 2,
        targets: dict[str, dict[str, Any]] | None = None,
        steer_hidden: int = 32,
        entities: dict[str, dict[str, Any]] | None = None,
        masks: dict[str, int] | None = None,
        moves: dict[str, dict[str, Any]] | None = None,
        boxes: dict[str, dict[str, list[float]]] | None = None,
        images: dict[str, Sequence[int]] | None = None,
    ) -> None:
        """`targets`: role -> {velocity, first, count, teammates, teammate_count, moves} (the fields of
        `games.spec.Targets`) for the roles that get a `ChooseAndSteer` network, or a `MoveAndSay` network where
        `moves` is above 0 (an action is `move + moves * word`). `entities`: role -> {own, first, count, width,
        aspect, scored} (`games.spec.Entities`, and whether rows score themselves) for the roles that get a
        `ChooseAndAct` network (its act net `steer_hidden` wide). Every other role gets a plain MLP. `masks`: role
        -> where its legal-move mask starts in the observation (`games.spec.GameInfo.masks`): moves it marks 0
        get no probability, so they are never sampled nor trained on. `moves`: role -> {reader, layout}
        (`games.spec.Moves`) for the roles that get a `ScoreMoves` network (its move net `steer_hidden` wide). Old
        checkpoints' positional lists are read by `named_layout`; `args` always holds the named form. `boxes`: role
        -> {low, high} of its Box action (`games.spec.GameInfo.action_boxes`); given, every role acts with numbers:
        a `ChooseAndSteer` whose steer net gives the means where the role has `targets`, else an MLP of the
        means, and a learned spread per number (`league.box_actions`). `images`: role -> `(C, H, W)` of its
        picture observation (`games.spec.GameInfo.images`): those roles get an `ImageNet` (a CNN) for their
        logits or means, whatever layout they list."""
        super().__init__()
        targets = {role: named_layout("targets", t) for role, t in (targets or {}).items()}
        entities = {role: named_layout("entities", e) for role, e in (entities or {}).items()}
        self.args = {"agents": list(agents), "obs_dims": dict(obs_dims), "n_actions": dict(n_actions),
                     "hidden": hidden, "layers": layers, "targets": targets, "steer_hidden": steer_hidden}
        if entities:  # only when used, so the args of every other team read as before
            self.args["entities"] = entities
        self.masks = {role: int(start) for role, start in (masks or {}).items()}
        if self.masks:
            self.args["masks"] = dict(self.masks)
        moves = {role: {"reader": m["reader"], "layout": dict(m["layout"])} for role, m in (moves or {}).items()}
        if moves:
            self.args["moves"] = moves
        boxes = {role: {"low": [float(v) for v in b["low"]], "high": [float(v) for v in b["high"]]}
                 for role, b in (boxes or {}).items()}
        if boxes:
            self.args["boxes"] = boxes
            roles = sorted({role_of(a) for a in agents})
            if sorted(boxes) != roles:
                raise ValueError(f"boxes {sorted(boxes)} must name every role of {roles}")
        images = {role: [int(v) for v in shape] for role, shape in (images or {}).items()}
        if images:
            self.args["images"] = images
        self.continuous = bool(boxes)
        self.log_std = nn.ParameterDict()
        self.agents = list(agents)
        self.roles = list(dict.fromkeys(role_of(a) for a in agents))
        self.max_actions = max(n_actions.values())
        self.nets = nn.ModuleDict()
        for role in self.roles:
            members = [i for i, a in enumerate(agents) if role_of(a) == role]
            self.register_buffer(f"idx_{role}", torch.tensor(members, dtype=torch.long), persistent=False)
            # (n_role, n_role); built on the CPU even when the layout is drawn on the meta device (checkpoints do,
            # to check shapes): torch's meta `eye` first imports its reference ops, 2 s; `.to()` moves it as usual
            self.register_buffer(f"onehot_{role}", torch.eye(len(members), device="cpu"), persistent=False)
            if role in images:
                self.nets[role] = ImageNet(images[role], len(members), hidden, layers, n_actions[role],
                                           nn.ReLU if role in boxes else nn.Tanh)
                if role in boxes:
                    self.log_std[role] = nn.Parameter(torch.zeros(n_actions[role]))
            elif role in boxes:
                if role in targets and not targets[role]["moves"]:
                    self.nets[role] = ChooseAndSteer(obs_dims[role], len(members), Targets(**targets[role]), hidden,
                                                     layers, steer_hidden, n_actions[role])
                else:
                    self.nets[role] = mlp(obs_dims[role] + len(members), hidden, layers, n_actions[role], nn.ReLU)
                self.log_std[role] = nn.Parameter(torch.zeros(n_actions[role]))  # spread 1: half the box
            elif role in moves:
                self.nets[role] = ScoreMoves(obs_dims[role], len(members), moves[role], hidden, layers, steer_hidden,
                                             n_actions[role])
            elif role in entities:
                layout = {name: v for name, v in entities[role].items() if name != "scored"}
                self.nets[role] = ChooseAndAct(obs_dims[role], len(members), Entities(**layout), hidden, layers,
                                               steer_hidden, n_actions[role], scored=entities[role]["scored"])
            elif role in targets and targets[role]["moves"]:
                self.nets[role] = MoveAndSay(obs_dims[role], len(members), Targets(**targets[role]), hidden, layers,
                                             steer_hidden, n_actions[role])
            elif role in targets:
                self.nets[role] = ChooseAndSteer(obs_dims[role], len(members), Targets(**targets[role]), hidden,
                                                 layers, steer_hidden, n_actions[role])
            else:
                self.nets[role] = mlp(obs_dims[role] + len(members), hidden, layers, n_actions[role])
        self.obs_dims, self.n_actions = dict(obs_dims), dict(n_actions)
        if boxes:  # (n, D) each seat's box: centre and half-width per number (0 past its role's own numbers)
            low, high = (torch.as_tensor(b) for b in seat_bounds(agents, {r: (b["low"], b["high"])
                                                                          for r, b in boxes.items()}))
            half = (high - low) / 2
            self.register_buffer("box_centre", low + half, persistent=False)
            self.register_buffer("box_half", half, persistent=False)
            self.register_buffer("box_numbers", half > 0, persistent=False)
            self.components = max(self.nets[r].count if isinstance(self.nets[r], ChooseAndSteer) else 1
                                  for r in self.roles)
        self.game: str | None = None  # set by load_team from the checkpoint, so scripts know what to make
        self.game_kwargs: dict[str, Any] = {}

    @classmethod
    def for_game(cls, info: Any, hidden: int = 128, layers: int = 2, use_targets: bool = True,
                 steer_hidden: int = 32) -> TeamPolicy:
        """A fresh policy for a game's `GameInfo`; `use_targets` gives the roles whose observations list
        places to head for a `ChooseAndSteer` (or `MoveAndSay`) network, those whose observations are
        tables of entities to act on a `ChooseAndAct` network, and those that see pictures an `ImageNet`."""
        declared = info.targets if use_targets else {}
        targets = {role: asdict(t) for role, t in declared.items() if isinstance(t, Targets)}
        entities = {role: {**asdict(e), "scored": True}  # rows score themselves
                    for role, e in declared.items() if isinstance(e, Entities)}
        moves = {role: asdict(m) for role, m in declared.items() if isinstance(m, Moves)}
        boxes = {role: {"low": list(low), "high": list(high)}
                 for role, (low, high) in getattr(info, "action_boxes", {}).items()}
        return cls(list(info.agents), info.obs_dims, info.n_actions, hidden, layers, targets, steer_hidden, entities,
                   getattr(info, "masks", None), moves, boxes, getattr(info, "images", None) if use_targets else None)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs `(..., n_agents, obs_dim)` -> logits `(..., n_agents, max_actions)` (missing and illegal actions
        -1e9)."""
        logits = obs.new_full((*obs.shape[:-2], len(self.agents), self.max_actions), MISSING_ACTION)
        for role in self.roles:
            idx, x = self.role_input(obs, role)
            out = self.nets[role](x)  # (..., n_role, A_role)
            if role in self.masks:  # illegal moves: no probability (a seat not to move has none legal: uniform)
                start = self.masks[role]
                legal = obs[..., idx, start: start + self.n_actions[role]] > 0.5
                out = out.masked_fill(~legal, MISSING_ACTION)
            logits[..., idx, : self.n_actions[role]] = out
        return logits

    def role_input(self, obs: torch.Tensor, role: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The seats of `role` `(n_role,)` and what its net reads: each seat's observation, then its agent-id
        one-hot `(..., n_role, obs_dim_role + n_role)`."""
        idx, onehot = getattr(self, f"idx_{role}"), getattr(self, f"onehot_{role}")
        x = obs[..., idx, : self.obs_dims[role]]  # (..., n_role, obs_dim_role)
        return idx, torch.cat([x, onehot.expand(*obs.shape[:-2], *onehot.shape)], dim=-1)

    def mixture(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A team of Box actions: obs `(..., n, D_obs)` -> each seat's mixture in box units: component log-weights
        `(..., n, K)` (slots a role lacks: -1e9), means `(..., n, K, D)` and the spread `log_std` `(n, D)`, no
        narrower than `box_actions.LOG_STD_MIN`."""
        lead, K, D = obs.shape[:-2], self.components, self.max_actions
        log_mix = obs.new_full((*lead, len(self.agents), K), box_actions.MISSING)
        means = obs.new_zeros((*lead, len(self.agents), K, D))
        log_std = obs.new_zeros((len(self.agents), D))
        for role in self.roles:
            idx, x = self.role_input(obs, role)
            net, d = self.nets[role], self.n_actions[role]
            if isinstance(net, ChooseAndSteer):
                role_mix, role_means = net.parts(x)  # (..., n_role, k), (..., n_role, k, d)
            else:
                role_means = net(x).unsqueeze(-2)  # (..., n_role, 1, d)
                role_mix = role_means.new_zeros(role_means.shape[:-1])
            k = role_mix.shape[-1]
            log_mix[..., idx, :k] = role_mix
            means[..., idx, :k, :d] = role_means
            log_std[idx, :d] = self.log_std[role].clamp(min=box_actions.LOG_STD_MIN)
        return log_mix, means, log_std

    def box_actions(self, z: torch.Tensor) -> torch.Tensor:
        """Box units `(..., n, D)` -> the game's numbers (0 past a role's own)."""
        return self.box_centre + self.box_half * z

    def box_units(self, actions: torch.Tensor) -> torch.Tensor:
        """The game's numbers `(..., n, D)` -> box units (0 past a role's own)."""
        return torch.where(self.box_numbers, (actions - self.box_centre) / self.box_half.clamp(min=1e-30), 0.0)

    def clip(self, actions: torch.Tensor) -> torch.Tensor:
        """Numbers `(..., n, D)` clipped to each seat's box: what the game gets and a replay stores."""
        return torch.clamp(actions, self.box_centre - self.box_half, self.box_centre + self.box_half)

    @torch.no_grad()
    def sample(self, obs: torch.Tensor, generator: torch.Generator | None = None,
               deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions `(..., n_agents)` (Box actions: `(..., n_agents, D)` numbers, as drawn: a batch clips them) and
        their log-probs. Gumbel-max sampling with an explicit generator keeps runs reproducible without touching
        the global RNG."""
        if self.continuous:
            log_mix, means, log_std = self.mixture(obs)
            z = box_actions.draw(log_mix, means, log_std, generator, deterministic)  # (..., n, D)
            return self.box_actions(z), box_actions.log_prob(z, log_mix, means, log_std, self.box_numbers)
        logp = torch.log_softmax(self(obs), dim=-1)  # (..., n, A)
        if deterministic:
            actions = logp.argmax(dim=-1)
        else:
            u = torch.rand(logp.shape, generator=generator, device=logp.device).clamp_(1e-20, 1.0)
            actions = (logp - torch.log(-torch.log(u))).argmax(dim=-1)
        return actions, logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1)

    def evaluate(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probs of `actions` `(..., n)` under the policy for `obs` `(..., n, D)`, with the entropy of each
        seat's distribution `(..., n)`: all GRPO's update asks of a head, so another head (a legal-move mask, a
        continuous action) changes this and `sample`, not the update."""
        if self.continuous:
            log_mix, means, log_std = self.mixture(obs)
            logp = box_actions.log_prob(self.box_units(actions), log_mix, means, log_std, self.box_numbers)
            return logp, box_actions.entropy(log_mix, log_std, self.box_numbers)
        logp_all = torch.log_softmax(self(obs), -1)  # (..., n, A)
        logp = logp_all.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        return logp, -(logp_all.exp() * logp_all).sum(-1)

    def act(self, observations: dict[str, Any], deterministic: bool = True) -> dict[str, Any]:
        """PettingZoo dict of observations for the live agents -> dict of actions for those agents (Box actions:
        float32 arrays within the box)."""
        width = max(self.obs_dims.values())
        device = next(self.parameters()).device
        obs = torch.as_tensor(batchify(observations, self.agents, width), device=device)  # (n, D)
        actions, _ = self.sample(obs.unsqueeze(0), deterministic=deterministic)
        if self.continuous:
            numbers = self.clip(actions)[0].cpu().numpy()  # (n, D)
            return {a: numbers[i, : self.n_actions[role_of(a)]] for i, a in enumerate(self.agents) if a in observations}
        return {a: int(actions[0, i]) for i, a in enumerate(self.agents) if a in observations}

    def numpy_policy(self, deterministic: bool = True, seed: int = 0):
        """`obs (B, n, D) ndarray -> actions (B, n) ndarray`, the form baselines and evaluation use."""
        device = next(self.parameters()).device
        generator = torch.Generator(device=device).manual_seed(seed)

        def policy(obs: np.ndarray, info: Any = None) -> np.ndarray:
            actions, _ = self.sample(torch.as_tensor(obs, device=device), generator, deterministic)
            return (self.clip(actions) if self.continuous else actions).cpu().numpy()

        return policy
