"""`HanabiBatch`: PettingZoo classic `hanabi_v5` (OpenSpiel's Hanabi through Shimmy) for B deals at once in numpy,
turn for turn the same game, observed through the same canonical encoder.

The game (the Hanabi Learning Environment's rules, which OpenSpiel wraps):
- a deck of `colors` x `ranks` card kinds, 3 of the lowest rank, 1 of the highest, 2 of each other; `players`
  hands of `hand_size`, dealt player by player; cards are kept in the order drawn (a card played or discarded
  leaves a gap that the later cards close, and the new card goes last);
- on a turn a player discards (not at full information tokens; gives a token back), plays (a card one above
  its colour's firework raises it, a completed firework gives a token back when tokens are short of the most;
  any other card costs a life and is discarded) or hints a colour or a rank to another player (costs a
  token; only a colour or rank that hand holds), which marks every card of that hand it names, and rules the
  colour or rank out for the others;
- after a play or discard the player draws while the deck lasts; once it is empty every player has one more
  turn; the game ends then, at the last life, or when every firework is complete;
- the reward of a turn is the change of the score (the fireworks' sum; 0 once the lives are gone, so a
  bomb-out takes every point back), the same for every player;
- Shimmy also truncates a game at OpenSpiel's `max_game_length`, counting each deal as a step
  (`Layout.max_game_length`): the score then stands.

The deal is Shimmy's: at each chance node it draws `np_random.choice(kinds, p=counts / left)` from the generator
`gymnasium.utils.seeding.np_random(seed)`, and the counts left depend only on the cards drawn before, so the
whole deck order follows from the seed at reset, replayed here draw for draw (`deck_order`).

Observations are OpenSpiel's canonical encoding (HLE `CanonicalObservationEncoder`), with `Layout` giving its
sections: the other hands, who misses a card, the deck left, fireworks, tokens, discards, the last move, and
what the hints said of every card in every hand (first-order card knowledge: which kinds hints leave possible,
and the colour and rank hinted). Players are relative to the observer. `tests/test_hanabi.py` proves it equal
to the env over whole games.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Sequence

import numpy as np
from gymnasium.utils import seeding

PLAY, DISCARD, REVEAL_COLOR, REVEAL_RANK = 0, 1, 2, 3
"""Move types as the encoder's last-move section orders them."""


@dataclass(frozen=True)
class Layout:
    """Where each section of the canonical observation starts, for one set of options."""

    colors: int = 5
    ranks: int = 5
    players: int = 2
    hand_size: int = 5
    max_information_tokens: int = 8
    max_life_tokens: int = 3

    @property
    def kinds(self) -> int:
        """Card kinds (colour, rank): a card is `color * ranks + rank`."""
        return self.colors * self.ranks

    @property
    def copies(self) -> np.ndarray:
        """`(ranks,)` cards of each rank in a colour: 3 of the lowest, 1 of the highest, 2 of the others."""
        copies = np.full(self.ranks, 2)
        copies[0], copies[-1] = 3, 1
        return copies

    @property
    def deck_size(self) -> int:
        return self.colors * int(self.copies.sum())

    @property
    def max_game_length(self) -> int:
        """OpenSpiel's `max_game_length()` for Hanabi, 2 x deck + players x hand_size + information tokens (118 by
        default). Shimmy counts every deal as a step of the game, and truncates a game once 1 + the cards dealt
        + the turns played exceed it: a default game whose deck ran out ends at its 68th turn."""
        return 2 * self.deck_size + self.players * self.hand_size + self.max_information_tokens

    @property
    def most_turns(self) -> int:
        """The most turns a game can last: before Shimmy's truncation (above), and by the rules (every draw
        is a play or discard, a hint costs a token that only a discard or a completed firework gives back, one
        more round once the deck is empty)."""
        draws = self.deck_size - self.players * self.hand_size
        rules = 2 * (draws + self.players) + self.max_information_tokens + self.colors
        return min(rules, self.max_game_length - 1 - self.players * self.hand_size)

    @property
    def n_actions(self) -> int:
        """Discard each position, play each position, then for each other player its colours, then its ranks."""
        return 2 * self.hand_size + (self.players - 1) * (self.colors + self.ranks)

    @property
    def hands(self) -> int:
        return 0

    @property
    def missing(self) -> int:
        """One flag per player (relative) whose hand is short of `hand_size`."""
        return (self.players - 1) * self.hand_size * self.kinds

    @property
    def deck(self) -> int:
        return self.missing + self.players

    @property
    def fireworks(self) -> int:
        return self.deck + self.deck_size - self.players * self.hand_size

    @property
    def information(self) -> int:
        return self.fireworks + self.kinds

    @property
    def life(self) -> int:
        return self.information + self.max_information_tokens

    @property
    def discards(self) -> int:
        return self.life + self.max_life_tokens

    @property
    def last_move(self) -> int:
        return self.discards + self.deck_size

    @property
    def knowledge(self) -> int:
        P, H, C, R = self.players, self.hand_size, self.colors, self.ranks
        return self.last_move + P + 4 + P + C + R + H + H + self.kinds + 2

    @property
    def card_bits(self) -> int:
        """Knowledge bits of one card: possible kinds, colour hinted, rank hinted."""
        return self.kinds + self.colors + self.ranks

    @property
    def size(self) -> int:
        return self.knowledge + self.players * self.hand_size * self.card_bits


def layout_of(options: dict[str, Any]) -> Layout:
    """The observation's layout for a game's full options (the unrelated options are ignored)."""
    return Layout(**{f.name: int(options[f.name]) for f in fields(Layout)})


def deck_order(seed: int, layout: Layout) -> np.ndarray:
    """`(deck_size,)` the cards in the order Shimmy deals them for `env.reset(seed=seed)` (`deck_orders`)."""
    return deck_orders([seed], layout)[0]


def deck_orders(seeds: Sequence[int], layout: Layout) -> np.ndarray:
    """`(len(seeds), deck_size)` the deal of each seed: each draw is `rng.choice(kinds left, p=counts / left)`,
    replayed as numpy computes it (cumulative sum, normalised, `searchsorted` of one uniform, side right). The
    kinds no longer in the deck are kept in the sum with probability 0: adding 0.0 changes no partial sum, and
    no uniform lands on them, so all seeds draw together."""
    uniforms = np.stack([seeding.np_random(int(s))[0].random(layout.deck_size) for s in seeds])  # (S, D)
    counts = np.tile(np.tile(layout.copies, layout.colors), (len(seeds), 1)).astype(np.int64)  # (S, kinds)
    order = np.empty((len(seeds), layout.deck_size), dtype=np.int64)
    rows = np.arange(len(seeds))
    for k in range(layout.deck_size):
        cdf = (counts / counts.sum(1, keepdims=True)).cumsum(1)
        cdf /= cdf[:, -1:]
        card = (cdf <= uniforms[:, k:k + 1]).sum(1)
        order[:, k] = card
        counts[rows, card] -= 1
    return order


def colour_kinds(sigma: np.ndarray, layout: Layout) -> np.ndarray:
    """`(kinds,)` card kind `c * ranks + r` -> `sigma[c] * ranks + r`."""
    k = np.arange(layout.kinds)
    return np.asarray(sigma)[k // layout.ranks] * layout.ranks + k % layout.ranks


def colour_maps(sigma: Sequence[int], layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """The observation gather index `(size + n_actions,)` and the action map `(n_actions,)` of relabelling colour c
    as colour sigma[c]: every section that names a card kind or a colour, and the mask with the moves it lists
    (a colour hint names its colour)."""
    L = layout
    P, H, C, K = L.players, L.hand_size, L.colors, L.kinds
    sigma = np.asarray(sigma, dtype=np.int64)
    kind = colour_kinds(sigma, L)
    actions = np.arange(L.n_actions)
    hints = 2 * H + np.arange((P - 1) * C)  # colour hints: partner (o - 1) * C + colour
    actions[hints] = 2 * H + (hints - 2 * H) // C * C + sigma[(hints - 2 * H) % C]
    index = np.arange(L.size + L.n_actions)

    def move(first: int, to: np.ndarray) -> None:  # what was entry j of the block at `first` is now entry to[j]
        index[first + to] = first + np.arange(len(to))

    for first in [j * K for j in range((P - 1) * H)] + [L.fireworks, L.knowledge - 2 - K]:
        move(first, kind)  # the others' cards, fireworks, the card of the last play or discard
    for card in range(P * H):
        move(L.knowledge + card * L.card_bits, kind)  # the kinds a card may be
        move(L.knowledge + card * L.card_bits + K, sigma)  # the colour hinted
    move(L.last_move + P + 4 + P, sigma)  # the colour the last hint named
    per_colour = int(L.copies.sum())
    move(L.discards, (sigma[:, None] * per_colour + np.arange(per_colour)).reshape(-1))  # discards, colour by colour
    move(L.size, actions)
    return index, actions


class HanabiBatch:
    """B Hanabi deals played together; observations `(B, players, layout.size + n_actions)` with the legal-move
    mask appended (all zeros but for the player to move), as `games.turns.Turns` gives the env's."""

    def __init__(self, num_envs: int, colors: int = 5, ranks: int = 5, players: int = 2, hand_size: int = 5,
                 max_information_tokens: int = 8, max_life_tokens: int = 3) -> None:
        L = self.layout = Layout(colors, ranks, players, hand_size, max_information_tokens, max_life_tokens)
        self.num_envs, self.n_actions = num_envs, L.n_actions
        self.agents = tuple(f"player_{i}" for i in range(players))
        self.obs_dim = L.size + L.n_actions
        B, P, H, C, R = num_envs, players, hand_size, colors, ranks
        self.order = np.zeros((B, L.deck_size), dtype=np.int64)  # (B, D) the deal
        self.drawn = np.zeros(B, dtype=np.int64)  # cards dealt so far
        self.hand = np.full((B, P, H), -1, dtype=np.int64)  # card or -1, in the order drawn
        self.color_possible = np.ones((B, P, H, C), dtype=bool)
        self.rank_possible = np.ones((B, P, H, R), dtype=bool)
        self.color_hinted = np.full((B, P, H), -1, dtype=np.int64)
        self.rank_hinted = np.full((B, P, H), -1, dtype=np.int64)
        self.fireworks = np.zeros((B, C), dtype=np.int64)
        self.information = np.zeros(B, dtype=np.int64)
        self.life = np.zeros(B, dtype=np.int64)
        self.discarded = np.zeros((B, L.kinds), dtype=np.int64)
        self.turns_left = np.zeros(B, dtype=np.int64)  # counted down once the deck is empty
        self.length = np.zeros(B, dtype=np.int64)  # Shimmy's game length: 1 + deals + turns
        self.current = np.zeros(B, dtype=np.int64)
        self.score = np.zeros(B, dtype=np.int64)
        # the last move: who, what, to whom, which colour/rank, which cards it named, from where, which card
        self.last = {k: np.full(B, -1, dtype=np.int64) for k in ("player", "type", "target", "color", "rank",
                                                                   "position", "card")}
        self.last_revealed = np.zeros((B, H), dtype=bool)
        self.last_scored = np.zeros(B, dtype=bool)
        self.last_token = np.zeros(B, dtype=bool)
        self.alive = np.zeros((B, P), dtype=bool)
        self.done = np.ones(B, dtype=bool)
        self._orders: dict[int, np.ndarray] = {}  # seed -> deal, as GRPO repeats each seed G times

    # ---------------------------------------------------------------- reset
    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Deal each game from its seed, exactly as `env.reset(seed=s)`; returns obs `(B, P, obs_dim)`."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"need {self.num_envs} seeds, got {len(seeds)}")
        L = self.layout
        new = sorted({int(s) for s in seeds} - set(self._orders))
        self._orders = {int(s): self._orders[int(s)] for s in seeds if int(s) in self._orders}
        self._orders.update(zip(new, deck_orders(new, L)) if new else ())
        self.order = np.stack([self._orders[int(s)] for s in seeds])
        P, H = L.players, L.hand_size
        self.hand[:] = self.order[:, : P * H].reshape(-1, P, H)
        self.drawn[:] = P * H
        self.color_possible[:], self.rank_possible[:] = True, True
        self.color_hinted[:], self.rank_hinted[:] = -1, -1
        self.fireworks[:] = 0
        self.information[:], self.life[:] = L.max_information_tokens, L.max_life_tokens
        self.discarded[:] = 0
        self.turns_left[:] = P
        self.length[:] = 1 + P * H
        self.current[:] = 0
        self.score[:] = 0
        for v in self.last.values():
            v[:] = -1
        self.last_revealed[:], self.last_scored[:], self.last_token[:] = False, False, False
        self.done[:] = False
        self.alive[:] = np.arange(P) == 0
        return self._observe(np.ones(self.num_envs, dtype=bool))

    def clone_rows(self, source: np.ndarray) -> None:
        """Game i goes on as a copy of game `source[i]` `(B,)`: the deal and everything played (for branching)."""
        source = np.asarray(source, dtype=np.int64)
        for name in ("order", "drawn", "hand", "color_possible", "rank_possible", "color_hinted", "rank_hinted",
                     "fireworks", "information", "life", "discarded", "turns_left", "length", "current", "score",
                     "last_revealed", "last_scored", "last_token", "alive", "done"):
            setattr(self, name, getattr(self, name)[source].copy())
        self.last = {k: v[source].copy() for k, v in self.last.items()}

    def relabel(self, sigma: Sequence[int]) -> np.ndarray:
        """Colour c becomes colour sigma[c] in every game, everywhere at once (the deck, the hands, what the hints
        said, fireworks, discards, the last move): the state of the relabelled game (`games.symmetry`). Returns
        the observations `(B, P, obs_dim)`."""
        sigma = np.asarray(sigma, dtype=np.int64)
        kind = colour_kinds(sigma, self.layout)

        def cards(a: np.ndarray) -> np.ndarray:
            return np.where(a >= 0, kind[np.clip(a, 0, None)], a)

        def colours(a: np.ndarray) -> np.ndarray:
            return np.where(a >= 0, sigma[np.clip(a, 0, None)], a)

        self.order, self.hand, self.last["card"] = kind[self.order], cards(self.hand), cards(self.last["card"])
        self.color_hinted, self.last["color"] = colours(self.color_hinted), colours(self.last["color"])
        for name, moved in (("color_possible", sigma), ("fireworks", sigma), ("discarded", kind)):
            old = getattr(self, name)
            new = np.empty_like(old)
            new[..., moved] = old
            setattr(self, name, new)
        return self._observe(~self.done)

    # ---------------------------------------------------------------- step
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, P)`: the player to move's counts, the others' are ignored -> obs `(B, P, obs_dim)`,
        rewards `(B, P)` (the score's change, for everyone), done `(B,)`. An illegal move raises ValueError."""
        L = self.layout
        P, H, C, R = L.players, L.hand_size, L.colors, L.ranks
        live = ~self.done
        rows = np.flatnonzero(live)
        me = self.current[rows]
        move = np.asarray(actions, dtype=np.int64)[rows, me]  # (b,)
        legal = self.legal_moves()[rows]
        if not legal[np.arange(len(rows)), np.clip(move, 0, L.n_actions - 1)].all() or (move < 0).any() \
                or (move >= L.n_actions).any():
            bad = int(rows[~legal[np.arange(len(rows)), np.clip(move, 0, L.n_actions - 1)]][0])
            raise ValueError(f"game {bad}: move {int(actions[bad, self.current[bad]])} is not legal")
        self.turns_left[rows] -= self.drawn[rows] >= L.deck_size
        drawn_before = self.drawn[rows].copy()

        for k in ("player", "type", "target", "color", "rank", "position", "card"):
            self.last[k][rows] = -1
        self.last_revealed[rows], self.last_scored[rows], self.last_token[rows] = False, False, False
        self.last["player"][rows] = me

        # ---- play or discard: the card leaves the hand, the next card of the deck comes last
        leaves = move < 2 * H
        r_out, p_out, pos = rows[leaves], me[leaves], move[leaves] % H
        if len(r_out):
            plays = move[leaves] >= H
            card = self.hand[r_out, p_out, pos]
            color, rank = card // R, card % R
            fits = plays & (self.fireworks[r_out, color] == rank)
            self.fireworks[r_out[fits], color[fits]] += 1
            complete = fits & (rank == R - 1) & (self.information[r_out] < L.max_information_tokens)
            token = ~plays | complete
            self.information[r_out] += token
            self.life[r_out] -= plays & ~fits
            np.add.at(self.discarded, (r_out[~fits], card[~fits]), 1)
            self.last["type"][r_out] = np.where(plays, PLAY, DISCARD)
            self.last["position"][r_out], self.last["card"][r_out] = pos, card
            self.last_scored[r_out], self.last_token[r_out] = fits, token
            self._remove(r_out, p_out, pos)
            draws = self.drawn[r_out] < L.deck_size
            r_in, p_in = r_out[draws], p_out[draws]
            slot = (self.hand[r_in, p_in] >= 0).sum(-1)
            self.hand[r_in, p_in, slot] = self.order[r_in, self.drawn[r_in]]
            self.drawn[r_in] += 1

        # ---- hints: every card of the colour (rank) named is marked, the others lose that colour (rank)
        hints = ~leaves
        r_h, p_h, k = rows[hints], me[hints], move[hints] - 2 * H
        if len(r_h):
            is_color = k < (P - 1) * C
            offset = np.where(is_color, k // C, (k - (P - 1) * C) // R) + 1
            value = np.where(is_color, k % C, (k - (P - 1) * C) % R)
            target = (p_h + offset) % P
            cards = self.hand[r_h, target]  # (h, H)
            held = cards >= 0
            named = held & np.where(is_color[:, None], cards // R == value[:, None], cards % R == value[:, None])
            self.information[r_h] -= 1
            for is_c, possible, hinted, n in ((True, self.color_possible, self.color_hinted, C),
                                              (False, self.rank_possible, self.rank_hinted, R)):
                sel = is_color == is_c
                rr, tt, vv, nn, hh = r_h[sel], target[sel], value[sel], named[sel], held[sel]
                onehot = np.arange(n) == vv[:, None, None]  # (h, 1, n)
                current = possible[rr, tt]  # (h, H, n)
                possible[rr, tt] = np.where(nn[..., None], onehot, np.where(hh[..., None], current & ~onehot,
                                                                             current))
                hinted[rr, tt] = np.where(nn, vv[:, None], hinted[rr, tt])
            self.last["type"][r_h] = np.where(is_color, REVEAL_COLOR, REVEAL_RANK)
            self.last["target"][r_h] = target
            self.last["color"][r_h] = np.where(is_color, value, -1)
            self.last["rank"][r_h] = np.where(is_color, -1, value)
            self.last_revealed[r_h] = named

        # ---- the score, the end, the next player
        before = self.score.copy()
        total = self.fireworks.sum(-1)
        self.score = np.where(self.life > 0, total, 0)
        self.length[rows] += 1 + (leaves & (self.drawn[rows] > drawn_before))
        ended = live & ((self.life <= 0) | (total >= C * R) | (self.turns_left <= 0)
                        | (self.length > L.max_game_length))
        rewards = np.where(live, self.score - before, 0).astype(np.float32)
        self.current[rows] = (me + 1) % P
        self.done |= ended
        self.alive[:] = (np.arange(P) == self.current[:, None]) & ~self.done[:, None]
        obs = self._observe(live & ~ended)
        return obs, np.repeat(rewards[:, None], P, axis=1), self.done.copy()

    def observe_all(self) -> np.ndarray:
        """`(B, P, obs_dim)` every game's observations, the ended ones included (the env gives none once a game
        is over; a viewer still draws its final table)."""
        return self._observe(np.ones(self.num_envs, dtype=bool))

    def close(self) -> None:
        """Nothing to free; here so every batch can be closed the same way."""

    def _remove(self, rows: np.ndarray, players: np.ndarray, positions: np.ndarray) -> None:
        """Takes the card at `positions` out of each hand; the later cards (and what is known of them) move up."""
        H = self.layout.hand_size
        j = np.arange(H)
        src = np.minimum(j + (j >= positions[:, None]), H - 1)  # (b, H)
        last = j == H - 1
        for array, empty in ((self.hand, -1), (self.color_possible, True), (self.rank_possible, True),
                             (self.color_hinted, -1), (self.rank_hinted, -1)):
            part = array[rows, players]  # (b, H, ...)
            index = src.reshape(src.shape + (1,) * (part.ndim - 2))
            moved = np.take_along_axis(part, np.broadcast_to(index, part.shape), axis=1)
            moved[:, -1] = empty
            array[rows, players] = moved
        del last

    # ---------------------------------------------------------------- what the players see
    def legal_moves(self) -> np.ndarray:
        """`(B, A)` bool: the player to move's legal moves (HLE's rules), by move id."""
        L = self.layout
        B, P, H, C, R = self.num_envs, L.players, L.hand_size, L.colors, L.ranks
        b = np.arange(B)
        mine = self.hand[b, self.current] >= 0  # (B, H)
        can_hint = (self.information > 0)[:, None]
        legal = np.zeros((B, L.n_actions), dtype=bool)
        legal[:, :H] = mine & (self.information < L.max_information_tokens)[:, None]
        legal[:, H:2 * H] = mine
        for o in range(1, P):
            cards = self.hand[b, (self.current + o) % P]  # (B, H)
            held = cards >= 0
            colors = (held[..., None] & (cards[..., None] // R == np.arange(C))).any(1)  # (B, C)
            ranks = (held[..., None] & (cards[..., None] % R == np.arange(R))).any(1)
            legal[:, 2 * H + (o - 1) * C: 2 * H + o * C] = colors & can_hint
            start = 2 * H + (P - 1) * C + (o - 1) * R
            legal[:, start:start + R] = ranks & can_hint
        return legal & ~self.done[:, None]

    def _observe(self, rows: np.ndarray) -> np.ndarray:
        """`(B, P, obs_dim)` float32: each player's canonical observation and mask; zeros where `rows` is False
        (a game that just ended: the env gives no observation then)."""
        L = self.layout
        B, P, H, C, R, K = self.num_envs, L.players, L.hand_size, L.colors, L.ranks, L.kinds
        obs = np.zeros((B, P, self.obs_dim), dtype=np.float32)
        b = np.arange(B)[:, None, None]
        q = np.arange(P)[None, :, None]  # observer
        # other hands: relative player k (1..P-1), card j -> block (k - 1) * H + j
        k = np.arange(1, P)
        seen = self.hand[:, (np.arange(P)[:, None] + k[None]) % P]  # (B, P, P-1, H)
        block = ((k[:, None] - 1) * H + np.arange(H)[None]) * K  # (P-1, H)
        index = np.where(seen >= 0, block + seen, -1).reshape(B, P, -1)
        bb, qq = np.broadcast_arrays(b, q, index)[:2]
        keep = index >= 0
        obs[bb[keep], qq[keep], index[keep]] = 1.0
        sizes = (self.hand >= 0).sum(-1)  # (B, P)
        rel = (np.arange(P)[:, None] + np.arange(P)[None]) % P  # (observer, k) -> absolute player
        obs[:, :, L.missing:L.missing + P] = sizes[:, rel] < H
        # deck left, fireworks, tokens (unary), discards (thermometer per kind)
        left = L.deck_size - self.drawn
        width = L.deck_size - P * H
        obs[:, :, L.deck:L.deck + width] = (np.arange(width) < left[:, None])[:, None]
        fire = np.zeros((B, K), dtype=np.float32)
        lit = np.flatnonzero(self.fireworks.reshape(-1) > 0)
        fire.reshape(-1)[(lit // C) * K + (lit % C) * R + self.fireworks.reshape(-1)[lit] - 1] = 1.0
        obs[:, :, L.fireworks:L.fireworks + K] = fire[:, None]
        T, V = L.max_information_tokens, L.max_life_tokens
        obs[:, :, L.information:L.information + T] = (np.arange(T) < self.information[:, None])[:, None]
        obs[:, :, L.life:L.life + V] = (np.arange(V) < self.life[:, None])[:, None]
        copies = np.tile(L.copies, C)  # (K,)
        starts = np.concatenate([[0], np.cumsum(copies)[:-1]])
        thermo = np.arange(int(copies.max()))
        bits = (thermo[None, None] < self.discarded[..., None]) & (thermo < copies[:, None])[None]  # (B, K, 3)
        where = starts[:, None] + thermo[None]  # (K, 3)
        discard = np.zeros((B, L.deck_size), dtype=np.float32)
        bi, ki, ti = np.nonzero(bits)
        discard[bi, where[ki, ti]] = 1.0
        obs[:, :, L.discards:L.discards + L.deck_size] = discard[:, None]
        self._observe_last_move(obs)
        self._observe_knowledge(obs, rel)
        mask = self.legal_moves().astype(np.float32)  # (B, A)
        obs[np.arange(B), self.current, L.size:] = mask
        obs[~rows] = 0.0
        return obs

    def _observe_last_move(self, obs: np.ndarray) -> None:
        L = self.layout
        B, P, H, C, R, K = self.num_envs, L.players, L.hand_size, L.colors, L.ranks, L.kinds
        who, kind = self.last["player"], self.last["type"]
        b = np.flatnonzero(who >= 0)
        if not len(b):
            return
        o = L.last_move
        q = np.arange(P)
        bb = np.repeat(b, P)
        qq = np.tile(q, len(b))
        obs[bb, qq, o + (who[bb] - qq) % P] = 1.0
        o += P
        obs[bb, qq, o + kind[bb]] = 1.0
        o += 4
        hint = kind[bb] >= REVEAL_COLOR
        obs[bb[hint], qq[hint], o + (self.last["target"][bb[hint]] - qq[hint]) % P] = 1.0
        o += P
        c = kind[bb] == REVEAL_COLOR
        obs[bb[c], qq[c], o + self.last["color"][bb[c]]] = 1.0
        o += C
        r = kind[bb] == REVEAL_RANK
        obs[bb[r], qq[r], o + self.last["rank"][bb[r]]] = 1.0
        o += R
        obs[bb, qq, o:o + H] = np.where(hint[:, None], self.last_revealed[bb], 0.0)
        o += H
        out = ~hint
        obs[bb[out], qq[out], o + self.last["position"][bb[out]]] = 1.0
        o += H
        obs[bb[out], qq[out], o + self.last["card"][bb[out]]] = 1.0
        o += K
        played = kind[bb] == PLAY
        obs[bb, qq, o] = played & self.last_scored[bb]
        obs[bb, qq, o + 1] = played & self.last_token[bb]

    def _observe_knowledge(self, obs: np.ndarray, rel: np.ndarray) -> None:
        L = self.layout
        B, P, H, C, R, K = self.num_envs, L.players, L.hand_size, L.colors, L.ranks, L.kinds
        held = self.hand >= 0  # (B, P, H)
        possible = self.color_possible[..., :, None] & self.rank_possible[..., None, :]  # (B, P, H, C, R)
        bits = np.zeros((B, P, H, L.card_bits), dtype=np.float32)
        bits[..., :K] = possible.reshape(B, P, H, K)
        bits[..., K:K + C] = self.color_hinted[..., None] == np.arange(C)
        bits[..., K + C:] = self.rank_hinted[..., None] == np.arange(R)
        bits *= held[..., None]
        obs[:, :, L.knowledge:L.size] = bits[:, rel].reshape(B, P, -1)
