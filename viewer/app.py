"""The replay viewer: a stored match's two teams side by side on the same seed, frame-synced, re-simulated.

Keys: space pause/resume; left/right one frame back/forward (when paused); +/- speed x0.25..x16; Home
restart; N/P next/previous episode; S screenshot; H help; Esc, Q or closing the window quits. Click or drag
the timeline bar to scrub. The viewer is a plain state machine (`handle`, `update`, `draw`) driven by `run`,
so tests post events and tick it headless.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pygame

import games
from league.matches import outcome
from league.replays import Episode, ReplayError, checked_replay
from viewer.frames import EpisodeFrames
from viewer.hanabi_table import SIZE as TABLE_SIZE, has_table

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
SIDE_COLOURS = ((255, 140, 0), (0, 170, 220))  # player A, player B (seat markers, names)
HUMAN_COLOUR = (230, 30, 60)
BACKGROUND, TEXT, DIM = (24, 26, 30), (235, 235, 235), (150, 150, 155)
HUD_HEIGHT, BAR_HEIGHT, MARGIN, MAX_PANEL_WIDTH = 84, 56, 10, 560
HELP = [
    "space  pause / resume", "left / right  step one frame (paused)", "+ / -  speed x0.25 .. x16",
    "Home  restart episode", "N / P  next / previous episode", "click or drag the bar  scrub",
    "S  screenshot", "H  this help", "Esc / Q  quit",
]


@dataclass
class MatchView:
    """What the viewer shows: a match's players and its episodes paired by seed (left, right)."""

    match_id: int
    kind: str
    names: tuple[str, str]
    elos: tuple[float | None, float | None]
    pairs: list[tuple[Episode, Episode]]


def load_match(store: Any, league: dict[str, Any], match_id: int) -> MatchView:
    """Reads a stored match of `league` and its replays (checked: `checked_replay`); Elo from a fit over all the
    league's results. A match of another league is refused with one line (ids are global)."""
    from league.ratings import fit_ratings

    match = store.match(match_id)
    if match["league_id"] != league["id"]:
        raise ReplayError(f"match {match_id} is not in league {league['name']!r}")
    pairs = checked_replay(match, store.episodes(match_id), league)
    elo = {r.player: r.elo for r in fit_ratings(store.rated_results(match["league_id"]))}
    names = (match["name_a"], match["name_b"])
    return MatchView(match["id"], match["kind"], names, (elo.get(names[0]), elo.get(names[1])), pairs)


@functools.lru_cache(maxsize=16)
def frame_size(game: str, kwargs_key: tuple) -> tuple[int, int]:
    """(width, height) the game draws its frames at (the viewer's own table, where it draws one)."""
    if has_table(game, dict(kwargs_key)):
        return TABLE_SIZE
    env = games.get(game).make_env(render_mode="rgb_array", **dict(kwargs_key))
    env.reset(seed=0)
    height, width = env.render().shape[:2]
    return width, height


def panel_size(game: str, kwargs: dict[str, Any]) -> tuple[int, int]:
    """Panel (width, height): the game's frame scaled to at most MAX_PANEL_WIDTH wide."""
    width, height = frame_size(game, tuple(sorted(kwargs.items())))
    scale = min(1.0, MAX_PANEL_WIDTH / width)
    return int(width * scale), int(height * scale)


class ReplayViewer:
    """Side-by-side replay of a match; `run()` returns the exit status (0, or 3 after a replay mismatch)."""

    def __init__(self, view: MatchView, screen: pygame.Surface | None = None, screenshot_dir: str = "screenshots",
                 speed: float = 1.0, episode: int = 0) -> None:
        self.view = view
        first = view.pairs[0][0]
        self.fps = games.get(first.game).info(**first.game_kwargs).fps
        self.panel = panel_size(first.game, first.game_kwargs)
        if screen is None:
            screen = pygame.display.set_mode(self.window_size(view))
            pygame.display.set_caption(f"league watch: match {view.match_id}")
        self.screen = screen
        self.font = pygame.font.Font(None, 22)
        self.big = pygame.font.Font(None, 34)
        self.screenshot_dir = Path(screenshot_dir)
        self.speed_index = SPEEDS.index(speed) if speed in SPEEDS else SPEEDS.index(1.0)
        self.paused, self.show_help, self.running, self.scrubbing = False, False, True, False
        self.position = 0.0
        self.mismatches: set[tuple[int, int]] = set()
        self.episode = -1
        self.sides: list[EpisodeFrames] = []
        self.select_episode(episode)

    @staticmethod
    def window_size(view: MatchView) -> tuple[int, int]:
        """Two panels side by side, the HUD above and the timeline below."""
        first = view.pairs[0][0]
        width, height = panel_size(first.game, first.game_kwargs)
        return 2 * width + 3 * MARGIN, height + HUD_HEIGHT + BAR_HEIGHT

    # ------------------------------------------------------------ state
    @property
    def frame(self) -> int:
        """The frame on screen (0 = start state)."""
        return int(self.position)

    @property
    def speed(self) -> float:
        """Playback speed relative to the game's fps."""
        return SPEEDS[self.speed_index]

    @property
    def length(self) -> int:
        """Frames in the current episode (the longer side; the shorter one holds its last frame)."""
        return max(side.length for side in self.sides)

    def select_episode(self, k: int) -> None:
        """Shows episode k (clamped), from its start."""
        k = max(0, min(k, len(self.view.pairs) - 1))
        if k == self.episode:
            return
        for side in self.sides:
            side.close()
        self.episode = k
        self.sides = [EpisodeFrames(e.game, e.game_kwargs, e.seed, e.actions, e.checksums, self.panel)
                      for e in self.view.pairs[k]]
        self.position = 0.0

    def seek(self, frame: float) -> None:
        """Moves to a frame (clamped)."""
        self.position = float(max(0.0, min(frame, self.length - 1)))

    def handle(self, event: pygame.event.Event) -> None:
        """One input event."""
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            key = event.key
            if key in (pygame.K_ESCAPE, pygame.K_q):
                self.running = False
            elif key == pygame.K_SPACE:
                self.paused = not self.paused
            elif key in (pygame.K_RIGHT, pygame.K_LEFT) and self.paused:
                self.seek(self.frame + (1 if key == pygame.K_RIGHT else -1))
            elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
                self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)
            elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
                self.speed_index = max(self.speed_index - 1, 0)
            elif key == pygame.K_HOME:
                self.seek(0)
            elif key in (pygame.K_n, pygame.K_p):
                self.select_episode(self.episode + (1 if key == pygame.K_n else -1))
            elif key == pygame.K_s:
                self.screenshot()
            elif key == pygame.K_h:
                self.show_help = not self.show_help
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and self._bar_rect().collidepoint(event.pos):
            self.scrubbing = True
            self._scrub(event.pos[0])
        elif event.type == pygame.MOUSEMOTION and self.scrubbing:
            self._scrub(event.pos[0])
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            self.scrubbing = False

    def update(self, dt: float) -> None:
        """Advances playback by `dt` seconds of wall time at the current speed; stops at the last frame."""
        if not self.paused and not self.scrubbing:
            self.seek(self.position + dt * self.fps * self.speed)
            if self.frame >= self.length - 1:
                self.paused = True
        for i, side in enumerate(self.sides):
            side.frame(self.frame)
            if side.mismatch is not None and (self.episode, i) not in self.mismatches:
                self.mismatches.add((self.episode, i))
                print(f"replay mismatch: match {self.view.match_id} episode {self.episode + 1} "
                      f"{'left' if i == 0 else 'right'} side differs from the stored game at step "
                      f"{side.mismatch + 1}", file=sys.stderr)

    def screenshot(self) -> Path:
        """Saves the window as a PNG; returns its path."""
        self.screenshot_dir.mkdir(parents=True, exist_ok=True)
        path = self.screenshot_dir / f"match{self.view.match_id}-ep{self.episode + 1}-f{self.frame}.png"
        pygame.image.save(self.screen, str(path))
        print(f"screenshot: {path}")
        return path

    # ------------------------------------------------------------ drawing
    def _bar_rect(self) -> pygame.Rect:
        width, height = self.screen.get_size()
        return pygame.Rect(MARGIN, height - BAR_HEIGHT + 22, width - 2 * MARGIN, 14)

    def _scrub(self, x: int) -> None:
        bar = self._bar_rect()
        self.seek(round((x - bar.left) / bar.width * (self.length - 1)))

    def _text(self, text: str, pos: tuple[int, int], colour: tuple[int, int, int] = TEXT, big: bool = False) -> None:
        self.screen.blit((self.big if big else self.font).render(text, True, colour), pos)

    def side_label(self, i: int) -> tuple[str, tuple[int, int, int]]:
        """Who plays on side i, and in which colour."""
        view, episode = self.view, self.view.pairs[self.episode][i]
        if view.kind == "duplicate" or view.kind == "human":
            elo = view.elos[i]
            return f"{view.names[i]}" + (f"  (Elo {elo:.0f})" if elo is not None else ""), SIDE_COLOURS[i]
        owners = "".join("AB"[s] for s in episode.seats)
        return f"seats {owners}: A = {view.names[0]} (orange ring), B = {view.names[1]} (blue)", TEXT

    def draw(self) -> None:
        """Draws the whole window for the current frame."""
        screen = self.screen
        screen.fill(BACKGROUND)
        t = self.frame
        pair = self.view.pairs[self.episode]
        first = pair[0]
        self._text(f"{first.game}   seed {first.seed}   episode {self.episode + 1}/{len(self.view.pairs)}   "
                   f"{self.view.kind} match {self.view.match_id}", (MARGIN, 8), DIM)
        for i, side in enumerate(self.sides):
            x = MARGIN + i * (self.panel[0] + MARGIN)
            screen.blit(side.frame(t), (x, HUD_HEIGHT))
            label, colour = self.side_label(i)
            self._text(label, (x, 32), colour)
            ret = side.returns[min(t, side.length - 1)]
            ended = " (ended)" if t > side.length - 1 else ""
            self._text(f"team return {ret:8.2f}{ended}", (x, 56))
            self._draw_seats(screen, side, pair[i], x, min(t, side.length - 1))
            if side.mismatch is not None and side.mismatch < t:
                banner = pygame.Rect(x, HUD_HEIGHT, self.panel[0], 30)
                pygame.draw.rect(screen, (180, 0, 0), banner)
                self._text(f"REPLAY MISMATCH at step {side.mismatch + 1}: not what was played", (x + 6, HUD_HEIGHT + 7))
        self._draw_bar(screen, t)
        if t >= self.length - 1:
            self._draw_winner(pair)
        if self.show_help:
            self._draw_help(screen)

    def _draw_seats(self, screen: pygame.Surface, side: EpisodeFrames, episode: Episode, x: int, t: int) -> None:
        """Rings round the seats that show who plays them: mixed teams (A/B colours), humans (red)."""
        if self.view.kind not in ("mixed", "human"):
            return
        for agent, (ax, ay) in side.positions[t].items():
            seat = episode.seats[side.agents.index(agent)]
            human = self.view.kind == "human" and seat == 0 and len(set(episode.seats)) > 1
            colour = HUMAN_COLOUR if human else SIDE_COLOURS[seat]
            if self.view.kind == "mixed" or human:
                pygame.draw.circle(screen, colour, (x + ax, HUD_HEIGHT + ay), 22, 3)

    def _draw_bar(self, screen: pygame.Surface, t: int) -> None:
        bar = self._bar_rect()
        pygame.draw.rect(screen, (70, 72, 78), bar, border_radius=4)
        done = bar.copy()
        done.width = int(bar.width * t / max(1, self.length - 1))
        pygame.draw.rect(screen, (110, 160, 240), done, border_radius=4)
        state = "paused" if self.paused else "playing"
        status = f"step {t}/{self.length - 1}   speed x{self.speed:g}   {state}   H: help"
        self._text(status, (MARGIN, bar.top - 20), DIM)

    def _draw_winner(self, pair: tuple[Episode, Episode]) -> None:
        """The episode's result, at the right of the status row once the last frame is reached."""
        if self.view.kind == "mixed":
            text = "end: compare the two seatings' team returns"
        else:
            result = outcome(pair[0].team_return, pair[1].team_return)
            text = "draw" if result == 0.5 else f"winner: {self.view.names[0 if result == 1.0 else 1]}"
        surface = self.font.render(text, True, (255, 230, 120))
        bar = self._bar_rect()
        self.screen.blit(surface, (bar.right - surface.get_width(), bar.top - 20))

    def _draw_help(self, screen: pygame.Surface) -> None:
        box = pygame.Rect(40, HUD_HEIGHT + 20, 360, 24 * len(HELP) + 20)
        overlay = pygame.Surface(box.size, pygame.SRCALPHA)
        overlay.fill((0, 0, 0, 200))
        screen.blit(overlay, box.topleft)
        for i, line in enumerate(HELP):
            self._text(line, (box.left + 12, box.top + 12 + 24 * i))

    # ------------------------------------------------------------ loop
    def run(self, max_frames: int | None = None, fps_cap: int = 60) -> int:
        """The window's loop until quit (or `max_frames` drawn); exit status 0, or 3 after a mismatch."""
        clock = pygame.time.Clock()
        drawn = 0
        while self.running:
            dt = clock.tick(fps_cap) / 1000.0
            for event in pygame.event.get():
                self.handle(event)
            self.update(dt)
            self.draw()
            pygame.display.flip()
            drawn += 1
            if max_frames is not None and drawn >= max_frames:
                break
        for side in self.sides:
            side.close()
        return 3 if self.mismatches else 0
