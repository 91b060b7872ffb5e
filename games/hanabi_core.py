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
`gymnasium.utils.seeding.np_random(seed)` (the same generator as `np.random.default_rng(seed)`), and the counts
left depend only on the cards drawn before, so the whole deck order follows from the seed at reset, replayed
here draw for draw (`deck_order`). The turns, the legal moves and the observations run compiled
(`games.hanabi_kernels`).

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

from games import hanabi_kernels as kernels

PLAY, DISCARD, REVEAL_COLOR, REVEAL_RANK = kernels.PLAY, kernels.DISCARD, kernels.REVEAL_COLOR, kernels.REVEAL_RANK
"""Move types as the encoder's last-move section orders them."""
LAST = ("player", "type", "target", "color", "rank", "position", "card")
"""The columns of `HanabiBatch.last`, the last move of each game (-1: none, or not that kind of move)."""
COLOR, CARD = LAST.index("color"), LAST.index("card")


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
    replayed as numpy computes it (cumulative sum, normalised, `searchsorted` of one uniform, side right:
    `hanabi_kernels.deal`). The kinds no longer in the deck are kept in the sum with probability 0: adding 0.0
    changes no partial sum, and no uniform lands on them."""
    seeds = [int(s) for s in seeds]
    uniforms = np.empty((len(seeds), layout.deck_size))  # (S, D) what gymnasium's np_random(seed).random() gives
    if all(0 <= s < 2**64 for s in seeds):
        kernels.seeded_uniforms(np.array(seeds, dtype=np.uint64), uniforms)
    else:  # numpy says what is wrong with the seed, as the env would
        uniforms[:] = [np.random.default_rng(s).random(layout.deck_size) for s in seeds]
    order = np.empty((len(seeds), layout.deck_size), dtype=np.int64)
    kernels.deal(uniforms, np.tile(layout.copies, layout.colors).astype(np.int64), order)
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
        # the last move: who, what, to whom, which colour/rank, from where, which card; which cards it named
        self.last = np.full((B, 7), -1, dtype=np.int64)  # LAST names the columns
        self.last_revealed = np.zeros((B, H), dtype=bool)
        self.last_scored = np.zeros(B, dtype=bool)
        self.last_token = np.zeros(B, dtype=bool)
        self.alive = np.zeros((B, P), dtype=bool)
        self.done = np.ones(B, dtype=bool)
        # what `_observe` hands back: one buffer, and which of its games it last wrote (only those need zeroing)
        self._obs = np.zeros((B, P, self.obs_dim), dtype=np.float32)  # (B, P, obs_dim)
        self._written = np.zeros(B, dtype=bool)
        copies = np.tile(L.copies, C)
        self._copies_start = np.concatenate([[0], np.cumsum(copies)[:-1]]).astype(np.int64)  # (K,) per kind
        self._sections = np.array([L.missing, L.deck, L.fireworks, L.information, L.life, L.discards, L.last_move,
                                   L.knowledge, L.size], dtype=np.int64)

    # ---------------------------------------------------------------- reset
    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Deal each game from its seed, exactly as `env.reset(seed=s)`; returns obs `(B, P, obs_dim)`."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"need {self.num_envs} seeds, got {len(seeds)}")
        L = self.layout
        unique, which = np.unique(np.asarray(seeds), return_inverse=True)
        self.order = deck_orders(unique, L)[which]  # each deal worked out once: GRPO repeats a seed G times
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
        self.last[:] = -1
        self.last_revealed[:], self.last_scored[:], self.last_token[:] = False, False, False
        self.done[:] = False
        self.alive[:] = np.arange(P) == 0
        return self._observe(np.ones(self.num_envs, dtype=bool))

    def clone_rows(self, source: np.ndarray) -> None:
        """Game i goes on as a copy of game `source[i]` `(B,)`: the deal and everything played (for branching)."""
        source = np.asarray(source, dtype=np.int64)
        for name in ("order", "drawn", "hand", "color_possible", "rank_possible", "color_hinted", "rank_hinted",
                     "fireworks", "information", "life", "discarded", "turns_left", "length", "current", "score",
                     "last", "last_revealed", "last_scored", "last_token", "alive", "done"):
            setattr(self, name, getattr(self, name)[source].copy())

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

        self.order, self.hand = kind[self.order], cards(self.hand)
        self.last[:, CARD], self.last[:, COLOR] = cards(self.last[:, CARD]), colours(self.last[:, COLOR])
        self.color_hinted = colours(self.color_hinted)
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
        live = ~self.done
        rows = np.flatnonzero(live)
        move = np.asarray(actions, dtype=np.int64)[rows, self.current[rows]]  # (b,)
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        bad = kernels.step(rows, move, self.order, self.drawn, self.hand, self.color_possible, self.rank_possible,
                           self.color_hinted, self.rank_hinted, self.fireworks, self.information, self.life,
                           self.discarded, self.turns_left, self.length, self.current, self.score, self.done,
                           self.last, self.last_revealed, self.last_scored, self.last_token, L.players, L.hand_size,
                           L.colors, L.ranks, L.deck_size, L.max_information_tokens, L.max_game_length, rewards)
        if bad >= 0:  # checked before any game moved
            raise ValueError(f"game {int(rows[bad])}: move {int(move[bad])} is not legal")
        self.alive[:] = (np.arange(L.players) == self.current[:, None]) & ~self.done[:, None]
        obs = self._observe(live & ~self.done)
        return obs, np.repeat(rewards[:, None], L.players, axis=1), self.done.copy()

    def observe_all(self) -> np.ndarray:
        """`(B, P, obs_dim)` every game's observations, the ended ones included (the env gives none once a game
        is over; a viewer still draws its final table). A new array: the turn's buffer stays as `step` gave it."""
        every = np.ones(self.num_envs, dtype=bool)
        return self._observe(every, np.zeros((self.num_envs, self.layout.players, self.obs_dim), dtype=np.float32))

    def close(self) -> None:
        """Nothing to free; here so every batch can be closed the same way."""

    # ---------------------------------------------------------------- what the players see
    def legal_moves(self) -> np.ndarray:
        """`(B, A)` bool: the player to move's legal moves (HLE's rules), by move id."""
        L = self.layout
        legal = np.zeros((self.num_envs, L.n_actions), dtype=bool)
        kernels.legal_moves(self.hand, self.information, self.current, self.done, L.players, L.hand_size,
                            L.colors, L.ranks, L.max_information_tokens, legal)
        return legal

    def _observe(self, rows: np.ndarray, fresh: np.ndarray | None = None) -> np.ndarray:
        """`(B, P, obs_dim)` float32: each player's canonical observation and mask; zeros where `rows` is False
        (a game that just ended: the env gives no observation then). Written into `fresh` (zeros) if given, else
        into the turn's buffer, the same every call, as a new array cost a quarter of a batch step (its pages
        faulted in anew each turn): a caller copies what it keeps, as `games.rollout` does."""
        L = self.layout
        rows = np.asarray(rows, dtype=bool)
        if fresh is not None:
            obs, stale = fresh, np.zeros(0, dtype=np.int64)
        else:
            obs, stale = self._obs, np.flatnonzero(self._written & ~rows)  # written last time, not now: zeroed
            self._written = rows.copy()
        kernels.observe(np.flatnonzero(rows), stale, self.hand, self.drawn, self.fireworks, self.information, self.life,
                        self.discarded, self.last, self.last_revealed, self.last_scored, self.last_token,
                        self.color_possible, self.rank_possible, self.color_hinted, self.rank_hinted,
                        self.current, self._copies_start, self._sections, L.players,
                        L.hand_size, L.colors, L.ranks, L.deck_size, L.max_information_tokens,
                        L.max_life_tokens, obs)
        return obs
