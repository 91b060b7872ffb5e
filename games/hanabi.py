"""hanabi (PettingZoo classic `hanabi_v5`: OpenSpiel's Hanabi through Shimmy): the cooperative card game where
people and agents are tested as partners.

Agents: `player_0 .. player_{P-1}` (one role, `player`), one moving per step (turn-based, PettingZoo's AEC API).
Each player sees every hand but its own, the fireworks, the tokens, the discards, the last move, and what the
hints said about every card (OpenSpiel's canonical "card_knowledge" observation: `games.hanabi_core.Layout`
gives its sections); the league appends the legal-move mask (`games.turns`).
Actions: Discrete(2H + (P-1)(C+R)) = discard card 0..H-1, play card 0..H-1, then for each other player (the
next one first) hint one of its colours, then one of its ranks. 20 moves by default.
Reward: the change of the score (the sum of the fireworks, 0 once the lives are gone), the same for every
player; the team return is the final score, 0 to colours x ranks (25 by default).
Options (PettingZoo's defaults): colors=5, ranks=5, players=2, hand_size=5, max_information_tokens=8,
max_life_tokens=3, observation_type='card_knowledge', random_start_player=False.

Batched core: `games.hanabi_core.HanabiBatch`, B deals at once, for the card_knowledge observation with
player 0 to start (the other two options run on the generic runner). `tests/test_hanabi.py` proves it equal to
the env over whole games.

The scripted plan (`cautious`) plays only what it knows: play a card whose every possibility (by the hints) is
playable; else hint a partner's playable card that the partner does not know to be playable (the hint that
makes it known if one does, else its rank); else discard a card known to be useless, else the oldest card
nobody hinted, else the oldest. It never loses a life.

Version history: v1 (this project) wraps pettingzoo 1.27 `hanabi_v5`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from pettingzoo.classic import hanabi_v5

from games.hanabi_core import HanabiBatch, Layout, colour_maps
from games.spec import GameInfo, GameSpec
from games.symmetry import Symmetry

OPTIONS: dict[str, Any] = {
    "colors": 5,
    "ranks": 5,
    "players": 2,
    "hand_size": 5,
    "max_information_tokens": 8,
    "max_life_tokens": 3,
    "observation_type": "card_knowledge",
    "random_start_player": False,
}


def layout(options: dict[str, Any]) -> Layout:
    """The observation's layout for a game's full options."""
    return Layout(**{f.name: int(options[f.name]) for f in fields(Layout)})


def make_batch(num_envs: int, **kwargs: Any) -> HanabiBatch | None:
    """The core for the card_knowledge observation with player 0 to start; None for the other two options."""
    if kwargs["observation_type"] != "card_knowledge" or kwargs["random_start_player"]:
        return None
    return HanabiBatch(num_envs, **{f.name: int(kwargs[f.name]) for f in fields(Layout)})


def most_turns(**kwargs: Any) -> int:
    """Every game ends by itself; this is the most turns one can last (`Layout.most_turns`: 97 by default)."""
    return layout(kwargs).most_turns


def check_options(**kwargs: Any) -> str | None:
    """OpenSpiel deals a colour to each player at most, and every hand must be dealt from the deck."""
    if kwargs["players"] > kwargs["colors"]:
        return f"{kwargs['players']} players need at least as many colours (colors={kwargs['colors']})"
    deck = layout(kwargs).deck_size
    if kwargs["players"] * kwargs["hand_size"] >= deck:
        return (f"{kwargs['players']} hands of {kwargs['hand_size']} cards need more than the deck's {deck} "
                f"cards")
    return None


# ---------------------------------------------------------------- what a player sees, read off its observation


@dataclass
class View:
    """Every seat's observation read as the game's parts (B games, P seats, relative players: 0 is the seat)."""

    level: np.ndarray
    """`(B, P, C)` each colour's firework (cards played)."""
    hints: np.ndarray
    """`(B, P)` information tokens left."""
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


def view(obs: np.ndarray, L: Layout) -> View:
    """Reads observations `(B, P, L.size + A)` (the canonical encoding, then the mask)."""
    B, P = obs.shape[:2]
    H, C, R, K = L.hand_size, L.colors, L.ranks, L.kinds
    fire = obs[..., L.fireworks:L.fireworks + K].reshape(B, P, C, R)
    level = (fire * np.arange(1, R + 1)).sum(-1).round().astype(np.int64)  # one-hot at level - 1
    hints = obs[..., L.information:L.information + L.max_information_tokens].sum(-1).round().astype(np.int64)
    cards = obs[..., L.knowledge:L.size].reshape(B, P, P, H, L.card_bits) > 0.5
    possible = cards[..., :K]
    seen_bits = obs[..., :L.missing].reshape(B, P, P - 1, H, K) > 0.5
    seen = np.where(seen_bits.any(-1), seen_bits.argmax(-1), -1)
    kind = np.arange(K)
    playable = level[..., kind // R] == kind % R
    useless = level[..., kind // R] > kind % R
    return View(level, hints, possible, possible.any(-1), cards[..., K:].any(-1), seen,
                obs[..., L.size:L.size + L.n_actions] > 0.5, playable, useless)


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


def cautious(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """The scripted plan (module docstring): `(B, P, D)` -> a move for every seat `(B, P)` (legal for the seat to
    move; the others' are ignored)."""
    L = layout(info.options)
    v = view(np.asarray(obs), L)
    B, P = v.level.shape[:2]
    H = L.hand_size
    move = np.full((B, P), -1, dtype=np.int64)

    def choose(candidates: np.ndarray, moves: np.ndarray) -> None:
        """Where no move is chosen yet: the first candidate's move (candidates, moves `(B, P, N)`)."""
        some = candidates.any(-1) & (move < 0)
        first = candidates.argmax(-1)
        move[some] = np.take_along_axis(moves, first[..., None], -1)[..., 0][some]

    slots = np.arange(H)
    # 1. play the oldest card known to be playable
    mine_playable = known(v, v.playable)[:, :, 0]  # (B, P, H)
    choose(mine_playable & v.legal[..., H:2 * H], np.broadcast_to(H + slots, (B, P, H)))
    # 2. hint the next partner's (then the one after's) playable card it does not know is playable
    kinds = v.seen  # (B, P, P-1, H)
    safe = np.clip(kinds, 0, None)
    playable = (kinds >= 0) & np.take_along_axis(v.playable[:, :, None, :].repeat(P - 1, 2), safe, -1)
    todo = playable & ~known(v, v.playable)[:, :, 1:]
    colour_move, rank_move, makes_known = hint_moves(v, L, safe)
    hint = np.where(makes_known[1] | ~makes_known[0], rank_move, colour_move)
    can_hint = todo & (v.hints > 0)[..., None, None]
    choose(can_hint.reshape(B, P, -1), hint.reshape(B, P, -1))
    # 3. discard a card known to be useless, else the oldest card nobody hinted, else the oldest
    may_discard = v.legal[..., :H]
    useless = known(v, v.useless)[:, :, 0]
    for cards in (useless, ~v.hinted[:, :, 0] & v.held[:, :, 0], v.held[:, :, 0]):
        choose(cards & may_discard, np.broadcast_to(slots, (B, P, H)))
    # 4. nothing else is legal (tokens full, no playable card to hint; or no tokens at all): the first legal hint,
    #    else the first legal move
    hints = v.legal.copy()
    hints[..., :2 * H] = False
    choose(hints, np.broadcast_to(np.arange(L.n_actions), v.legal.shape))
    choose(v.legal, np.broadcast_to(np.arange(L.n_actions), v.legal.shape))
    return np.maximum(move, 0)


def colour_relabellings(info: GameInfo, **kwargs: Any) -> list[Symmetry]:
    """Any renaming of the colours is the same game (Hu et al.'s Other-Play was introduced on it): all C! of
    them, the identity first (120 by default)."""
    L = layout(kwargs)
    out = []
    for sigma in itertools.permutations(range(L.colors)):
        index, actions = colour_maps(sigma, L)
        out.append(Symmetry(sigma, {"player": index}, {"player": actions}))
    return out


SPEC = GameSpec(
    name="hanabi",
    summary="the card game of hints: players who cannot see their own cards build fireworks together (PettingZoo)",
    env_fn=hanabi_v5.env,
    options=OPTIONS,
    option_limits={"colors": (2, 5), "ranks": (2, 5), "players": (2, 5), "hand_size": (2, 5),
                   "max_information_tokens": (0, 20), "max_life_tokens": (1, 10)},  # OpenSpiel's bounds; tokens: ours
    options_check=check_options,
    batch_core=make_batch,
    scripted=cautious,
    horizon=most_turns,
    symmetries_fn=colour_relabellings,
)
