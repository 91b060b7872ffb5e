"""Hanabi's table, drawn by the viewer from the players' observations (the env's own frame shows every hand face
up, which is a spectator's view only).

`draw_table` draws one moment of a game: the fireworks, the hint and life tokens, the deck, the discards, each
hand, and the last moves in words. A spectator (`seat=None`, `league watch`) sees every hand face up, with what
its player knows of each card beneath it; a player (`league play`) sees its own cards face down with what the
hints said of each, and the partners' cards face up. Everything drawn is read off the observations
(`games.hanabi_plan.view`): seat q's observation shows every hand but q's, so each hand is read from the
observation of the player before it. `describe_move` says a move in words from the observations before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pygame

import games
from games.hanabi_core import Layout, layout_of
from games.hanabi_plan import View, view

SIZE = (600, 600)
"""(width, height) of the table, pixels."""
CARD = (54, 76)
COLOUR_NAMES = ("red", "yellow", "green", "white", "blue")  # OpenSpiel's colour order
COLOURS = ((215, 60, 55), (225, 195, 45), (70, 165, 80), (225, 225, 225), (70, 115, 225))
FELT, INK, DIM, BACK = (22, 70, 48), (240, 240, 240), (170, 190, 180), (40, 44, 60)
SELECTED, YOU = (255, 150, 40), (230, 30, 60)
MOVES_SHOWN = 5


@dataclass
class Table:
    """What a drawn table leaves behind for a player's mouse: where each card is."""

    cards: dict[tuple[int, int], pygame.Rect] = field(default_factory=dict)
    """(absolute player, slot) -> the card's rectangle on the surface."""


def card_name(kind: int, L: Layout) -> str:
    """"Y2": the colour's initial and the rank (1-based)."""
    return f"{COLOUR_NAMES[kind // L.ranks][0].upper()}{kind % L.ranks + 1}"


def hands_of(v: View, L: Layout) -> np.ndarray:
    """`(P, H)` every player's cards (kinds, -1 for an empty slot), each read from the player before it."""
    P = L.players
    return np.stack([v.seen[0, (i - 1) % P, 0] for i in range(P)])


def hint_words(move: int, L: Layout) -> tuple[int, str, int]:
    """A hint move -> (relative target, 'colour' or 'rank', the colour or the rank index)."""
    k = move - 2 * L.hand_size
    if k < (L.players - 1) * L.colors:
        return k // L.colors + 1, "colour", k % L.colors
    k -= (L.players - 1) * L.colors
    return k // L.ranks + 1, "rank", k % L.ranks


def describe_move(obs: np.ndarray, mover: int, move: int, L: Layout, names: list[str]) -> str:
    """The move `mover` (absolute) made, in words, from the observations `(P, D)` of every seat before it."""
    v = view(obs[None], L)
    H, P = L.hand_size, L.players
    who = names[mover]
    if move < 2 * H:
        slot = move % H
        kind = int(hands_of(v, L)[mover, slot])
        card = card_name(kind, L) if kind >= 0 else "?"
        if move < H:
            return f"{who} discarded card {slot + 1} ({card})"
        fits = kind >= 0 and v.level[0, 0, kind // L.ranks] == kind % L.ranks
        return f"{who} played card {slot + 1} ({card}): " + ("it fits" if fits else "a mistake, a life lost")
    offset, what, value = hint_words(move, L)
    target = (mover + offset) % P
    hand = hands_of(v, L)[target]
    held = hand >= 0
    named = held & ((hand // L.ranks == value) if what == "colour" else (hand % L.ranks == value))
    said = COLOUR_NAMES[value] if what == "colour" else f"{value + 1}s"
    slots = ", ".join(str(s + 1) for s in np.flatnonzero(named))
    return f"{who} told {names[target]}: {said} (card{'s' if named.sum() > 1 else ''} {slots})"


def _text(surface: pygame.Surface, font: pygame.font.Font, text: str, at: tuple[int, int],
          colour: tuple[int, int, int] = INK) -> int:
    image = font.render(text, True, colour)
    surface.blit(image, at)
    return image.get_width()


def _face_up(surface: pygame.Surface, rect: pygame.Rect, kind: int, L: Layout, font: pygame.font.Font) -> None:
    pygame.draw.rect(surface, COLOURS[kind // L.ranks], rect, border_radius=6)
    digit = font.render(str(kind % L.ranks + 1), True, (20, 20, 20))
    surface.blit(digit, digit.get_rect(center=rect.center))


def _knowledge(surface: pygame.Surface, rect: pygame.Rect, possible: np.ndarray, L: Layout,
               font: pygame.font.Font) -> None:
    """What a card's player knows of it: the colours (squares) and ranks (digits) still possible."""
    grid = possible.reshape(L.colors, L.ranks)
    colours, ranks = grid.any(1), grid.any(0)
    x = rect.left + 3
    for c in np.flatnonzero(colours):
        pygame.draw.rect(surface, COLOURS[c], (x, rect.top, 9, 9))
        x += 10
    digits = "".join(str(r + 1) for r in np.flatnonzero(ranks))
    _text(surface, font, digits, (rect.left + 3, rect.top + 11), DIM)


def _face_down(surface: pygame.Surface, rect: pygame.Rect, possible: np.ndarray, L: Layout,
               big: pygame.font.Font, small: pygame.font.Font) -> None:
    """Your own card: its back, in its colour once the hints say it, with its rank once they say it."""
    grid = possible.reshape(L.colors, L.ranks)
    colours, ranks = np.flatnonzero(grid.any(1)), np.flatnonzero(grid.any(0))
    fill = tuple(int(0.55 * c) for c in COLOURS[colours[0]]) if len(colours) == 1 else BACK
    pygame.draw.rect(surface, fill, rect, border_radius=6)
    pygame.draw.rect(surface, DIM, rect, 1, border_radius=6)
    mark = str(ranks[0] + 1) if len(ranks) == 1 else "?"
    image = big.render(mark, True, INK)
    surface.blit(image, image.get_rect(center=(rect.centerx, rect.centery - 8)))
    _knowledge(surface, pygame.Rect(rect.left, rect.bottom - 24, rect.width, 24), possible, L, small)


def draw_table(surface: pygame.Surface, obs: np.ndarray, L: Layout, names: list[str], moves: list[str],
               seat: int | None = None, selected: tuple[int, int] | None = None, status: str = "",
               score: float | None = None, reveal: bool = False) -> Table:
    """Draws the game of observations `(P, D)` (every seat's) on `surface` (SIZE); `moves` are the moves so far
    in words (the last MOVES_SHOWN are shown), `seat` the player whose view it is (None: a spectator's),
    `selected` a card to ring, `reveal` shows the seat its own cards too (the game is over). Returns where the
    cards are."""
    surface.fill(FELT)
    font, small, big = pygame.font.Font(None, 24), pygame.font.Font(None, 18), pygame.font.Font(None, 40)
    v = view(obs[None], L)
    q = 0 if seat is None else seat  # whose observation the shared parts are read from
    P, H = L.players, L.hand_size
    table = Table()
    # fireworks, tokens, deck
    _text(surface, font, "fireworks", (12, 10), DIM)
    for c in range(L.colors):
        rect = pygame.Rect(12 + c * (CARD[0] + 8), 32, *CARD)
        level = int(v.level[0, q, c])
        if level:
            _face_up(surface, rect, c * L.ranks + level - 1, L, big)
        else:
            pygame.draw.rect(surface, COLOURS[c], rect, 2, border_radius=6)
    x = 12 + L.colors * (CARD[0] + 8) + 20
    hints, lives = int(v.hints[0, q]), int(v.lives[0, q])
    _text(surface, font, f"hints {hints}/{L.max_information_tokens}", (x, 32))
    for i in range(L.max_information_tokens):
        pygame.draw.circle(surface, (90, 150, 255), (x + 8 + 18 * i, 62), 7, 0 if i < hints else 1)
    _text(surface, font, f"lives {lives}/{L.max_life_tokens}", (x, 78))
    for i in range(L.max_life_tokens):
        pygame.draw.circle(surface, (235, 70, 60), (x + 8 + 18 * i, 108), 7, 0 if i < lives else 1)
    deck = int(obs[q, L.deck:L.deck + L.deck_size - P * H].sum())
    total = int(v.level[0, q].sum())
    _text(surface, font, f"deck {deck}   fireworks {total}" + (f"   score {score:g}" if score is not None else ""),
          (x, 124))
    # hands: every player's row; yours face down
    hands = hands_of(v, L)
    top = 160
    for i in range(P):
        observer = q if seat is not None else (i - 1) % P  # a spectator reads each hand from the player before
        rel = (i - observer) % P  # the hand's player, relative to the observer
        me = seat is not None and i == seat
        label = names[i] + (" (you)" if me else "")
        _text(surface, font, label, (12, top), YOU if me else INK)
        for s in range(H):
            rect = pygame.Rect(150 + s * (CARD[0] + 10), top - 4, *CARD)
            if not v.held[0, observer, rel, s]:
                continue
            possible = v.possible[0, observer, rel, s]  # what player i knows of the card
            if me and not reveal:
                _face_down(surface, rect, possible, L, big, small)
            else:
                _face_up(surface, rect, int(hands[i, s]), L, big)
                _knowledge(surface, pygame.Rect(rect.left, rect.bottom + 2, rect.width, 20), possible, L, small)
            _text(surface, small, str(s + 1), (rect.right + 1, rect.top), DIM)
            if selected == (i, s):
                pygame.draw.rect(surface, SELECTED, rect.inflate(6, 6), 3, border_radius=8)
            table.cards[(i, s)] = rect
        top += CARD[1] + 30
    # discards, by colour
    thermo = obs[q, L.discards:L.discards + L.deck_size] > 0.5
    copies = np.tile(L.copies, L.colors)
    starts = np.concatenate([[0], np.cumsum(copies)[:-1]])
    _text(surface, font, "discards", (12, top), DIM)
    for c in range(L.colors):
        cards = [card_name(k, L)[1:] * int(thermo[starts[k]:starts[k] + copies[k]].sum())
                 for k in range(c * L.ranks, (c + 1) * L.ranks)]
        _text(surface, font, " ".join(filter(None, cards)) or "-", (100 + 98 * c, top), COLOURS[c])
    top += 30
    for line in moves[-MOVES_SHOWN:]:
        _text(surface, font, line, (12, top))
        top += 22
    if status:
        _text(surface, font, status, (12, SIZE[1] - 28), SELECTED)
    return table


class TableGame:
    """One Hanabi game followed move by move on a one-game core, to draw it (the PettingZoo env that plays it
    stays the reference; the core is proven equal to it, and still shows the table once the game is over)."""

    def __init__(self, game_kwargs: dict, seed: int, names: list[str]) -> None:
        spec = games.get("hanabi")
        self.layout = layout_of(spec.info(**game_kwargs).options)
        self.core = spec.batch(1, **game_kwargs)
        self.names = names
        self.obs = self.core.reset([int(seed)])[0]  # (P, D)
        self.moves: list[str] = []
        self.score = 0.0

    @property
    def to_move(self) -> int | None:
        """The player to move, None once the game is over."""
        return None if self.core.done[0] else int(self.core.current[0])

    def hands(self) -> np.ndarray:
        """`(P, H)` every player's cards (kinds, -1 for an empty slot)."""
        return hands_of(view(self.obs[None], self.layout), self.layout)

    def step(self, row: np.ndarray) -> None:
        """The move of the player to move in `row` `(P,)` (the others' entries are ignored)."""
        mover = int(self.core.current[0])
        move = int(row[mover])
        self.moves.append(describe_move(self.obs, mover, move, self.layout, self.names))
        actions = np.zeros((1, self.layout.players), dtype=np.int64)
        actions[0, mover] = move
        _, rewards, _ = self.core.step(actions)
        self.score += float(rewards[0, 0])
        self.obs = self.core.observe_all()[0]

    def draw(self, surface: pygame.Surface, seat: int | None = None, selected: tuple[int, int] | None = None,
             status: str = "") -> Table:
        over = self.core.done[0]
        if over and not status:
            status = f"game over: score {self.score:g} of {self.layout.kinds}"
        return draw_table(surface, self.obs, self.layout, self.names, self.moves, seat, selected, status,
                          self.score, reveal=over)


def has_table(game: str, game_kwargs: dict) -> bool:
    """Whether the viewer draws this game's table itself: Hanabi with the options its core plays (the others are
    drawn by their env)."""
    return game == "hanabi" and games.get(game).has_core(**game_kwargs)


def table_for(game: str, game_kwargs: dict, seed: int, names: list[str]) -> TableGame | None:
    """The viewer's own table for one game of this seed, or None where the env draws the game."""
    return TableGame(game_kwargs, seed, names) if has_table(game, game_kwargs) else None
