"""Hanabi as a player reads it, and the rule-based plans built on that reading.

`view` decodes the canonical observation (`games.hanabi_core.Layout`) into the game's parts: fireworks, tokens,
what each card may be by the hints, the partners' cards, the last move. `plan` is the rule-based player: the
scripted baseline `cautious` with all its options off, and the people-like partner styles of
`games.hanabi_styles` with one of them on. Every rule reads only what the seat's own observation shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from games.hanabi_core import DISCARD, PLAY, Layout, layout_of
from games.spec import GameInfo


@dataclass
class View:
    """Every seat's observation read as the game's parts (B games, P seats, relative players: 0 is the seat)."""

    level: np.ndarray
    """`(B, P, C)` each colour's firework (cards played)."""
    hints: np.ndarray
    """`(B, P)` information tokens left."""
    lives: np.ndarray
    """`(B, P)` life tokens left."""
    possible: np.ndarray
    """`(B, P, P, H, K)` bool: the kinds each card of each (relative) player may be, by the hints."""
    held: np.ndarray
    """`(B, P, P, H)` bool: the slot holds a card."""
    hinted: np.ndarray
    """`(B, P, P, H)` bool: a hint named the card's colour or rank."""
    seen: np.ndarray
    """`(B, P, P-1, H)` the kind of each card of the other players (relative 1..P-1), -1 for an empty slot."""
    legal: np.ndarray
    """`(B, P, A)` bool: the seat's legal moves (all False when it is not its turn)."""
    playable: np.ndarray
    """`(B, P, K)` bool: the kind would raise its firework now."""
    useless: np.ndarray
    """`(B, P, K)` bool: the kind's firework is past it (already played)."""
    unseen: np.ndarray
    """`(B, P, K)` copies of each kind the seat cannot see: not discarded, not played, not in a partner's hand
    (its own cards are among them, with the deck)."""
    last_mover: np.ndarray
    """`(B, P)` who made the last move (relative), -1 before the first."""
    last_type: np.ndarray
    """`(B, P)` its type (`hanabi_core.PLAY`, DISCARD, REVEAL_COLOR, REVEAL_RANK), -1 before the first."""
    last_position: np.ndarray
    """`(B, P)` the slot a last play or discard took the card from, -1 after a hint."""
    last_target: np.ndarray
    """`(B, P)` whom a last hint was given to (relative), -1 after a play or discard."""
    last_named: np.ndarray
    """`(B, P, H)` bool: the cards of the target's hand that the last hint named."""


def flag(bits: np.ndarray) -> np.ndarray:
    """Index of the set bit of a one-hot section `(..., n)`, -1 where none is set."""
    return np.where(bits.any(-1), bits.argmax(-1), -1)


def view(obs: np.ndarray, L: Layout) -> View:
    """Reads observations `(B, P, L.size + A)` (the canonical encoding, then the mask)."""
    obs = np.asarray(obs)
    B, P = obs.shape[:2]
    H, C, R, K = L.hand_size, L.colors, L.ranks, L.kinds
    fire = obs[..., L.fireworks:L.fireworks + K].reshape(B, P, C, R)
    level = (fire * np.arange(1, R + 1)).sum(-1).round().astype(np.int64)  # one-hot at level - 1
    hints = obs[..., L.information:L.information + L.max_information_tokens].sum(-1).round().astype(np.int64)
    lives = obs[..., L.life:L.life + L.max_life_tokens].sum(-1).round().astype(np.int64)
    cards = obs[..., L.knowledge:L.size].reshape(B, P, P, H, L.card_bits) > 0.5
    possible = cards[..., :K]
    seen_bits = obs[..., :L.missing].reshape(B, P, P - 1, H, K) > 0.5
    kind = np.arange(K)
    playable = level[..., kind // R] == kind % R
    useless = level[..., kind // R] > kind % R
    thermo = obs[..., L.discards:L.discards + L.deck_size] > 0.5  # per kind, one bit per copy discarded
    copies = np.tile(L.copies, C)  # (K,)
    discarded = np.add.reduceat(thermo, np.concatenate([[0], np.cumsum(copies)[:-1]]), axis=-1)  # (B, P, K)
    in_hands = seen_bits.sum((2, 3))  # (B, P, K)
    unseen = copies - discarded - useless.astype(np.int64) - in_hands  # a played kind's one card is on the firework
    last = obs[..., L.last_move:L.knowledge] > 0.5  # who, type, target, colour, rank, named, position, card
    sections = np.cumsum([P, 4, P, C, R, H, H])
    mover, kind_, target, _, _, named, position = np.split(last[..., :sections[-1]], sections[:-1], axis=-1)
    return View(level, hints, lives, possible, possible.any(-1), cards[..., K:].any(-1), flag(seen_bits),
                obs[..., L.size:L.size + L.n_actions] > 0.5, playable, useless, unseen,
                flag(mover), flag(kind_), flag(position), flag(target), named)


def known(v: View, where: np.ndarray) -> np.ndarray:
    """`(B, P, P, H)` bool: every kind a card may be is in `where` `(B, P, K)` (the card's player knows it)."""
    return v.held & ~(v.possible & ~where[:, :, None, None]).any(-1)


def hint_moves(v: View, L: Layout, kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each other player's card (its kind, `(B, P, P-1, H)`): the move that hints its colour, the move that
    hints its rank, and `(2, B, P, P-1, H)` whether each of the two leaves the card known to be playable."""
    H, C, R, P = L.hand_size, L.colors, L.ranks, L.players
    o = np.arange(1, P)[:, None]  # relative partner
    colour, rank = kinds // R, kinds % R
    colour_move = 2 * H + (o - 1) * C + colour
    rank_move = 2 * H + (P - 1) * C + (o - 1) * R + rank
    possible = v.possible[:, :, 1:]  # (B, P, P-1, H, K): what the partner knows of each of its cards
    k = np.arange(L.kinds)
    after_colour = possible & (k // R == colour[..., None])
    after_rank = possible & (k % R == rank[..., None])
    playable = v.playable[:, :, None, None]
    makes_known = np.stack([~(after_colour & ~playable).any(-1), ~(after_rank & ~playable).any(-1)])
    return colour_move, rank_move, makes_known


def plan(v: View, L: Layout, save_fives: bool = False, risky: bool = False) -> np.ndarray:
    """The rule-based player: a move for every seat `(B, P)` (legal for the seat to move; the others' are ignored).

    1. play the oldest card known to be playable;
       (risky) else, with more than one life left, a card a hint named that is one of at most two kinds (of
       those with a copy it cannot see), playable in at least half of those copies: a person's 50/50 on two
       clues;
    2. (save_fives) else save a 5: hint rank 5 to a partner whose oldest unhinted card (the one it would
       discard) is a 5 it does not know of;
    3. else hint a partner's playable card that it does not know to be playable (the next partner first; the
       hint that makes it known if one does, else its rank);
    4. else discard a card known to be useless, else the oldest card nobody hinted, (save_fives) else the
       oldest card not known to be a 5, else the oldest;
    5. else (tokens full and nothing to hint) the first legal hint, else the first legal move."""
    B, P = v.level.shape[:2]
    H, R = L.hand_size, L.ranks
    move = np.full((B, P), -1, dtype=np.int64)

    def choose(candidates: np.ndarray, moves: np.ndarray) -> None:
        """Where no move is chosen yet: the first candidate's move (candidates, moves `(B, P, N)`)."""
        some = candidates.any(-1) & (move < 0)
        first = candidates.argmax(-1)
        move[some] = np.take_along_axis(moves, first[..., None], -1)[..., 0][some]

    slots = np.arange(H)
    play_moves = np.broadcast_to(H + slots, (B, P, H))
    may_play = v.legal[..., H:2 * H]
    choose(known(v, v.playable)[:, :, 0] & may_play, play_moves)  # 1
    mine = v.possible[:, :, 0]  # (B, P, H, K)
    if risky:
        copies = np.where(mine, v.unseen[:, :, None], 0)  # (B, P, H, K) what each own card may be, copy by copy
        good = np.where(v.playable[:, :, None], copies, 0).sum(-1)
        chance = v.hinted[:, :, 0] & ((copies > 0).sum(-1) <= 2) & (2 * good >= copies.sum(-1)) & (good > 0)
        choose(chance & may_play & (v.lives > 1)[..., None], play_moves)
    kinds = v.seen  # (B, P, P-1, H)
    safe = np.clip(kinds, 0, None)
    colour_move, rank_move, makes_known = hint_moves(v, L, safe)
    tokens = (v.hints > 0)[..., None, None]
    fives = np.arange(L.kinds) % R == R - 1
    if save_fives:  # 2
        unhinted = v.held[:, :, 1:] & ~v.hinted[:, :, 1:]  # (B, P, P-1, H)
        chop = np.arange(H) == unhinted.argmax(-1)[..., None]  # (B, P, P-1, H): each partner's oldest unhinted
        knows_five = ~(v.possible[:, :, 1:] & ~fives).any(-1)
        save = chop & unhinted & (kinds % R == R - 1) & (kinds >= 0) & ~knows_five & tokens
        choose(save.reshape(B, P, -1), rank_move.reshape(B, P, -1))
    playable = (kinds >= 0) & np.take_along_axis(v.playable[:, :, None, :].repeat(P - 1, 2), safe, -1)  # 3
    todo = playable & ~known(v, v.playable)[:, :, 1:]
    hint = np.where(makes_known[1] | ~makes_known[0], rank_move, colour_move)
    choose((todo & tokens).reshape(B, P, -1), hint.reshape(B, P, -1))
    may_discard = v.legal[..., :H]  # 4
    held = v.held[:, :, 0]
    last_resort = [held & ~known(v, np.broadcast_to(fives, v.playable.shape))[:, :, 0]] if save_fives else []
    for cards in (known(v, v.useless)[:, :, 0], ~v.hinted[:, :, 0] & held, *last_resort, held):
        choose(cards & may_discard, np.broadcast_to(slots, (B, P, H)))
    hints = v.legal.copy()  # 5
    hints[..., :2 * H] = False
    every = np.broadcast_to(np.arange(L.n_actions), v.legal.shape)
    choose(hints, every)
    choose(v.legal, every)
    return np.maximum(move, 0)


def cautious(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """The scripted plan: `plan` with every option off, `(B, P, D)` -> a move for every seat `(B, P)`. It plays
    only what it knows, so it never loses a life."""
    L = layout_of(info.options)
    return plan(view(obs, L), L)


def removed_slot(v: View) -> np.ndarray:
    """`(B, P)` the slot the seat's own last move played or discarded a card from, -1 where its last move was
    not one (the later cards moved up a slot, the new card came last)."""
    own = (v.last_mover == 0) & np.isin(v.last_type, (PLAY, DISCARD))
    return np.where(own, v.last_position, -1)
