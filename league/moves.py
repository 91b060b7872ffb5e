"""Move features: what each legal move of a card game would do, read off the observation, so a network scores
each move from what it means (`league.policy.ScoreMoves`) instead of finding it in 658 raw bits.

Hanabi's canonical observation lists the partners' cards, what the hints left possible for every card, the
fireworks and the discards; whether "play card 2" is safe is a conjunction over 25 kinds of three of those
sections, and whether "hint red" helps is one over every card of the partner's hand. A plain MLP trained with
GRPO from scratch found little of this in 10 minutes (about 4 of 25), and one trained to copy the cautious rule
copied only two moves in three. The features below are the probabilities and counts a person reasons with; the
network still learns which moves to make from the game's score alone (nothing here says which move is good).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import torch

from games.hanabi_core import Layout

HANABI_FEATURES = 23
"""Numbers per move (`hanabi_move_features`)."""


class HanabiMoves(torch.nn.Module):
    """obs `(..., L.size + A)` (the canonical encoding, then the legal-move mask) -> features `(..., A, 23)`.

    Every move: its type (discard, play, colour hint, rank hint: one-hot), information tokens, lives and the deck
    left (fractions of their most). Play or discard of own card h: the slot holds a card, the chance it is
    playable, useless (its firework is past it) or critical (the last copy of a kind still needed), weighted by
    the copies of each possible kind the player cannot see; known playable, known useless (every possibility),
    hinted, and the slot's age. A hint: to which partner, how many of its cards it names, and of those how many
    are playable, playable and not known so to the partner, known playable after the hint, useless, critical,
    and told something new."""

    width = HANABI_FEATURES

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        L = self.L = layout
        K, C, R = L.kinds, L.colors, L.ranks
        kind = np.arange(K)
        copies = np.tile(L.copies, C)  # (K,) per kind
        bits = np.repeat(kind, copies)  # (deck,) the kind each discard bit counts, kind after kind
        self.register_buffer("copies", torch.tensor(copies, dtype=torch.float32, device="cpu"), persistent=False)
        discard_kind = torch.eye(K, device="cpu")[torch.as_tensor(bits, device="cpu")]  # (deck, K)
        self.register_buffer("discard_kind", discard_kind, persistent=False)
        self.register_buffer("kind_colour", torch.tensor(kind // R, device="cpu"), persistent=False)  # (K,)
        self.register_buffer("kind_rank", torch.tensor(kind % R, dtype=torch.float32, device="cpu"), persistent=False)
        same_colour = (kind[:, None] // R == kind[None, :] // R).astype(np.float32)  # (K, K)
        same_rank = (kind[:, None] % R == kind[None, :] % R).astype(np.float32)
        self.register_buffer("same_colour", torch.tensor(same_colour, device="cpu"), persistent=False)
        self.register_buffer("same_rank", torch.tensor(same_rank, device="cpu"), persistent=False)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        L = self.L
        P, H, C, R, K = L.players, L.hand_size, L.colors, L.ranks, L.kinds
        lead = obs.shape[:-1]
        # ---- the table: fireworks, tokens, deck, what is left of each kind
        fire = obs[..., L.fireworks:L.fireworks + K].unflatten(-1, (C, R))
        level = (fire * torch.arange(1, R + 1, device=obs.device, dtype=obs.dtype)).sum(-1)  # (..., C)
        level_k = level[..., self.kind_colour]  # (..., K)
        playable = (level_k == self.kind_rank).to(obs.dtype)
        useless = (level_k > self.kind_rank).to(obs.dtype)
        discarded = obs[..., L.discards:L.discards + L.deck_size] @ self.discard_kind  # (..., K)
        seen = obs[..., :L.missing].unflatten(-1, (P - 1, H, K))  # the partners' cards, one-hot
        unseen = (self.copies - discarded - useless - seen.sum((-3, -2))).clamp(min=0)  # (..., K)
        critical = ((self.copies - discarded) == 1).to(obs.dtype) * (1 - useless)  # one copy left, still needed
        most = max(1, L.max_information_tokens)  # a game may be played with no information tokens at all
        info = obs[..., L.information:L.information + L.max_information_tokens].sum(-1) / most
        lives = obs[..., L.life:L.life + L.max_life_tokens].sum(-1) / max(1, L.max_life_tokens)
        deck = obs[..., L.deck:L.fireworks].sum(-1) / max(1, L.fireworks - L.deck)
        table = torch.stack([info, lives, deck], -1)  # (..., 3)
        cards = obs[..., L.knowledge:L.size].unflatten(-1, (P, H, L.card_bits))
        possible = cards[..., :K]  # (..., P, H, K)
        held = possible.amax(-1)  # (..., P, H)
        colour_told = cards[..., K:K + C].amax(-1)
        rank_told = cards[..., K + C:].amax(-1)
        knows = lambda where: held * ((possible * (1 - where.unsqueeze(-2).unsqueeze(-2))).sum(-1) == 0)  # noqa: E731

        # ---- own cards (relative player 0): the plays and the discards
        weight = possible[..., 0, :, :] * unseen.unsqueeze(-2)  # (..., H, K) copies it may be
        total = weight.sum(-1).clamp(min=1e-6)
        chance = lambda where: (weight * where.unsqueeze(-2)).sum(-1) / total  # noqa: E731
        known_play, known_useless = knows(playable)[..., 0, :], knows(useless)[..., 0, :]
        age = torch.arange(H, device=obs.device, dtype=obs.dtype).expand(*lead, H) / max(1, H - 1)
        own = torch.stack([held[..., 0, :], chance(playable), chance(useless), chance(critical), known_play,
                           known_useless, torch.maximum(colour_told[..., 0, :], rank_told[..., 0, :]), age], -1)

        # ---- the partners' cards (relative 1..P-1) and what a colour or a rank hint would name
        kinds = seen  # (..., P-1, H, K)
        present = kinds.amax(-1)  # (..., P-1, H)
        on = lambda where: (kinds * where.unsqueeze(-2).unsqueeze(-2)).sum(-1)  # noqa: E731
        unknown_play = on(playable) * (1 - knows(playable)[..., 1:, :])  # playable, and the partner does not know
        by_kind = kinds.unflatten(-1, (C, R))
        partner = (torch.arange(1, P, device=obs.device, dtype=obs.dtype) / max(1, P - 1))[:, None, None]

        def hints(named: torch.Tensor, told: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
            """`(..., P-1, X, 8)` the hints of each colour (rank) X: `named` `(..., P-1, H, X)` each card's colour
            (rank) one-hot, `told` `(..., P-1, H)` it was hinted before, `same` `(K, K)` kinds of one colour (rank)."""
            left = possible[..., 1:, :, :] * (kinds @ same)  # (..., P-1, H, K) what a hint naming it would leave
            known_after = present * ((left * (1 - playable).unsqueeze(-2).unsqueeze(-2)).sum(-1) == 0)
            per_card = torch.stack([present, on(playable), unknown_play, unknown_play * known_after, on(useless),
                                    on(critical), present * (1 - told)], -1)  # (..., P-1, H, 7)
            counts = torch.einsum("...hx,...hf->...xf", named, per_card) / H  # (..., P-1, X, 7)
            return torch.cat([counts, partner.expand(*counts.shape[:-1], 1)], -1)

        colour_hints = hints(by_kind.sum(-1), colour_told[..., 1:, :], self.same_colour).flatten(-3, -2)
        rank_hints = hints(by_kind.sum(-2), rank_told[..., 1:, :], self.same_rank).flatten(-3, -2)

        # ---- one row per move, in the game's order: discards, plays, colour hints, rank hints
        def rows(kind: int, part: torch.Tensor, pad: tuple[int, int]) -> torch.Tensor:  # (..., n, 23)
            typ = torch.zeros(*part.shape[:-1], 4, device=obs.device, dtype=obs.dtype)
            typ[..., kind] = 1
            own_or_hint = torch.nn.functional.pad(part, pad)  # a card's 8 numbers, then a hint's 8
            return torch.cat([typ, table.unsqueeze(-2).expand(*part.shape[:-1], 3), own_or_hint], -1)

        return torch.cat([rows(0, own, (0, 8)), rows(1, own, (0, 8)), rows(2, colour_hints, (8, 0)),
                          rows(3, rank_hints, (8, 0))], -2)  # (..., A, 23)


READERS = {"hanabi": (Layout, HanabiMoves)}
"""A reader's name -> (the layout its numbers fill, by name; the feature module built on it)."""


def reader(entry: dict[str, Any]) -> torch.nn.Module:
    """The feature module of a policy's `moves` entry (`{"reader": name, "layout": {field: number}}`)."""
    layout_type, module = READERS[entry["reader"]]
    return module(layout_type(**entry["layout"]))


def check_entry(entry: Any, obs_dim: int, n_actions: int) -> str | None:
    """What is wrong with a stored `moves` entry (a tampered checkpoint), or None: a known reader, its layout's
    numbers by name and whole, and an observation and a move count that layout gives."""
    if not isinstance(entry, dict) or set(entry) != {"reader", "layout"} or entry["reader"] not in READERS:
        return f"is not a reader ({', '.join(READERS)}) with its layout"
    layout_type, _ = READERS[entry["reader"]]
    names = {f.name for f in fields(layout_type)}
    layout = entry["layout"]
    if not isinstance(layout, dict) or set(layout) != names or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100 for v in layout.values()):
        return f"layout does not give {', '.join(sorted(names))} as whole numbers from 0 to 100"
    try:
        L = layout_type(**layout)
        size, moves = L.size + L.n_actions, L.n_actions
    except (ValueError, ZeroDivisionError, IndexError):
        return "layout is not one a game has"
    if (size, moves) != (obs_dim, n_actions):
        return f"layout reads {size} numbers and {moves} moves, the role has {obs_dim} and {n_actions}"
    return None
