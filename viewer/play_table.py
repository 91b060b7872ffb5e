"""A person's seat at Hanabi's table (`league play` on Hanabi): a turn-based game played with the mouse and keys.

The person sees a player's view only: their own cards face down with what the hints said of each, the
partners' cards face up, the last moves in words. On their turn they pick a card (click it, or keys 1-5 for
their own), then P plays it or D discards it (their own card), or C hints its colour or R its rank (a
partner's card). A move the rules do not allow now is refused on the status line, never sent. The agents'
moves come one at a time, PARTNER_SECONDS apart, so they can be read. Esc, Q or closing the window abandons the
game (nothing is stored); at the end the final table stays until Enter, Esc or a click.

The game is played in the PettingZoo env (the reference: its checksums are what the replay checks) and drawn
from a one-game core beside it (`viewer.hanabi_table.TableGame`), which shows the final table too.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pygame

import games
from games.spec import close_env
from games.vector import batchify, unbatchify
from league.replays import NO_ACTION, Episode, state_checksum
from viewer.app import BACKGROUND, HUD_HEIGHT, TEXT, DIM
from viewer.hanabi_table import SIZE, TableGame, table_for

PARTNER_SECONDS = 1.0
"""Pause before each agent's move, so a person reads it."""
HELP = ("pick a card: click it, or 1-5 for yours",
        "yours: P play, D discard    a partner's: C hint its colour, R its rank")
Events = Callable[[], list[pygame.event.Event]]
FINISH = (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_ESCAPE, pygame.K_q)
"""Keys that close the final table."""


def table_window_size() -> tuple[int, int]:
    """The window for a person's seat: the HUD and the table."""
    return SIZE[0] + 20, SIZE[1] + HUD_HEIGHT + 10


class Seat:
    """The person's choices at the table: the card selected and the move a key makes of it."""

    def __init__(self, game: TableGame, me: int) -> None:
        self.game, self.me = game, me
        self.selected: tuple[int, int] | None = None
        self.status = ""
        self.cards: dict[tuple[int, int], pygame.Rect] = {}

    def handle(self, event: pygame.event.Event, legal: np.ndarray, offset: tuple[int, int]) -> int | None:
        """One event on the person's turn -> the move it makes (legal by `legal` `(A,)`), or None."""
        L = self.game.layout
        H, P = L.hand_size, L.players
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            x, y = event.pos[0] - offset[0], event.pos[1] - offset[1]
            self.selected = next((card for card, rect in self.cards.items() if rect.collidepoint(x, y)),
                                 self.selected)
            return None
        if event.type != pygame.KEYDOWN:
            return None
        key = event.unicode.lower() if event.unicode else ""
        if key.isdigit() and 1 <= int(key) <= H:
            self.selected = (self.me, int(key) - 1)
            return None
        if key not in ("p", "d", "c", "r"):
            return None
        if self.selected is None:
            self.status = "pick a card first"
            return None
        player, slot = self.selected
        if (player == self.me) != (key in ("p", "d")):
            self.status = ("P and D are for your own cards" if key in ("p", "d")
                           else "C and R hint a partner's card: click one of theirs")
            return None
        if key in ("p", "d"):
            move = slot + (H if key == "p" else 0)
        else:
            kind = int(self.game.hands()[player, slot])
            offset_ = (player - self.me) % P
            if key == "c":
                move = 2 * H + (offset_ - 1) * L.colors + kind // L.ranks
            else:
                move = 2 * H + (P - 1) * L.colors + (offset_ - 1) * L.ranks + kind % L.ranks
        if not legal[move]:
            self.status = ("no hint tokens left" if key in ("c", "r") else
                           "you cannot discard with every hint token in hand" if key == "d" else "not legal now")
            return None
        self.selected, self.status = None, ""
        return move


def play_table_episode(game: str, game_kwargs: dict[str, Any], partners: Callable[[np.ndarray, Any], np.ndarray],
                       seat: str, seed: int, screen: pygame.Surface, title: str = "",
                       events: Events = pygame.event.get, partner_seconds: float = PARTNER_SECONDS) -> Episode | None:
    """Plays one game with the person in `seat` (marked 0 in the episode's seats, the partners 1); None when
    the person quits before the end."""
    spec = games.get(game)
    info = spec.info(**game_kwargs)
    agents = list(info.agents)
    me = agents.index(seat)
    env = spec.make_env(**game_kwargs)
    table = table_for(game, game_kwargs, seed, agents)
    if table is None:
        raise ValueError(f"{game} with these options has no table for a person to play at")
    you = Seat(table, me)
    font = pygame.font.Font(None, 24)
    clock = pygame.time.Clock()
    obs, _ = env.reset(seed=int(seed))
    actions_log, checks, team_return = [], [], 0.0
    wait = 0.0
    offset = (10, HUD_HEIGHT)

    def draw(status: str) -> None:
        screen.fill(BACKGROUND)
        surface = pygame.Surface(SIZE)
        you.cards = table.draw(surface, me, you.selected, status).cards
        screen.blit(surface, offset)
        screen.blit(font.render(f"{title}   you: {seat}   turn {len(actions_log) + 1}   Esc quits", True, TEXT),
                    (10, 8))
        for i, line in enumerate(HELP):
            screen.blit(font.render(line, True, DIM), (10, 32 + 24 * i))
        if screen is pygame.display.get_surface():
            pygame.display.flip()

    try:
        while env.agents:
            mover = agents.index(env.acting[0])
            batch = batchify(obs, agents, info.max_obs_dim)[None]  # (1, n, D)
            move = None
            for event in events():
                if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE,
                                                                                                pygame.K_q)):
                    return None
                if mover == me:
                    move = you.handle(event, env.legal_moves(seat), offset) if move is None else move
            if mover != me:
                wait += clock.get_time() / 1000.0
                if wait >= partner_seconds:
                    move, wait = int(np.asarray(partners(batch, info))[0, mover]), 0.0
            draw(you.status or ("your turn" if mover == me else f"{agents[mover]} is thinking ..."))
            clock.tick(30)
            if move is None:
                continue
            row = np.full(len(agents), NO_ACTION, dtype=np.uint8)
            row[mover] = move
            actions_log.append(row)
            table.step(row)
            obs, rewards, *_ = env.step(unbatchify(row, agents, [agents[mover]], info.action_nvec))
            checks.append(state_checksum(env, batchify(obs, agents, info.max_obs_dim)))
            team_return += spec.team_reward_of(rewards, agents)
        done = f"game over: score {table.score:g} of {table.layout.kinds}; Enter, Esc or a click to finish"
        while True:  # the final table, until the person has seen it (a play key pressed on does not close it)
            draw(done)
            if any(e.type in (pygame.QUIT, pygame.MOUSEBUTTONDOWN) or (e.type == pygame.KEYDOWN and e.key in FINISH)
                   for e in events()):
                break
            clock.tick(30)
    finally:
        close_env(env)
    seats = [0 if i == me else 1 for i in range(len(agents))]
    return Episode(int(seed), seats, team_return, np.stack(actions_log), np.array(checks, dtype=np.uint32), game,
                   dict(game_kwargs))
