"""Frames of an episode, re-simulated in the game's own PettingZoo env with its own drawing.

`EpisodeFrames` replays stored actions lazily, one step per frame asked for, checking each step's state
checksum; a game the viewer draws itself (Hanabi's table, `viewer.hanabi_table`) is drawn so, the others with
their env's `render()`. Frames are kept (scaled to the panel) so stepping back is free. A game's
`GameSpec.agent_positions` says where it draws its agents, so the viewer can mark seats (the human's, or which
generation a mixed seat plays).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pygame

import games
from games.spec import close_env
from games.vector import batchify, unbatchify
from league.replays import present, state_checksum
from viewer.hanabi_table import SIZE as TABLE_SIZE, table_for


def to_surface(rgb: np.ndarray, size: tuple[int, int]) -> pygame.Surface:
    """`(H, W, 3)` uint8 frame -> Surface scaled to `size` (width, height)."""
    surface = pygame.surfarray.make_surface(np.ascontiguousarray(rgb.swapaxes(0, 1)))
    return surface if surface.get_size() == size else pygame.transform.smoothscale(surface, size)


def panel_positions(spec: games.GameSpec, env: Any, source: tuple[int, int],
                    panel: tuple[int, int]) -> dict[str, tuple[float, float]]:
    """Where the env last drew each live agent (`GameSpec.agent_positions`; empty for a game that does not
    say), scaled from the game's frame size `source` (width, height) to `panel`."""
    if spec.agent_positions is None:
        return {}
    sx, sy = panel[0] / source[0], panel[1] / source[1]
    return {a: (x * sx, y * sy) for a, (x, y) in spec.agent_positions(env).items()}


class EpisodeFrames:
    """One stored episode, re-simulated frame by frame. Frame t is the state after t steps."""

    def __init__(self, game: str, game_kwargs: dict[str, Any], seed: int, actions: np.ndarray,
                 checksums: np.ndarray, panel: tuple[int, int]) -> None:
        self.spec = games.get(game)
        self.info = self.spec.info(**game_kwargs)
        self.actions, self.checksums = actions, checksums
        self.length = len(actions) + 1
        self.panel = panel
        self.env = self.spec.make_env(render_mode="rgb_array", **game_kwargs)
        self.agents = tuple(self.env.possible_agents)
        self.env.reset(seed=int(seed))
        self.table = table_for(game, game_kwargs, seed, list(self.agents))
        """The viewer's own drawing of the game (Hanabi's table), else None: the env's frames."""
        self.source_size = TABLE_SIZE if self.table else self.env.render().shape[1::-1]  # (width, height)
        self.frames: list[pygame.Surface] = [self._draw()]
        self.positions: list[dict[str, tuple[float, float]]] = [panel_positions(self.spec, self.env, self.source_size, panel)]
        self.returns = [0.0]
        self.mismatch: int | None = None
        """First step whose checksum differed from the stored one (the replay is not what was played)."""

    def _advance(self) -> None:
        t = len(self.frames) - 1
        row = self.actions[t]
        live = [a for a in self.env.agents if present(row[self.agents.index(a)])]
        obs, rewards, *_ = self.env.step(unbatchify(row, self.agents, live, self.info.action_nvec,
                                                    self.info.action_boxes))
        observed = batchify(obs, self.agents, self.info.max_obs_dim)  # (n, D)
        if self.mismatch is None and state_checksum(self.env, observed) != int(self.checksums[t]):
            self.mismatch = t
        self.returns.append(self.returns[-1] + self.spec.team_reward_of(rewards, self.agents))
        if self.table is not None:
            self.table.step(row)
        self.frames.append(self._draw())
        self.positions.append(panel_positions(self.spec, self.env, self.source_size, self.panel))

    def _draw(self) -> pygame.Surface:
        """The frame of the state now, scaled to the panel: the table, or the env's own drawing."""
        if self.table is None:
            return to_surface(self.env.render(), self.panel)
        surface = pygame.Surface(TABLE_SIZE)
        self.table.draw(surface)
        return surface if surface.get_size() == self.panel else pygame.transform.smoothscale(surface, self.panel)

    def frame(self, t: int) -> pygame.Surface:
        """Frame t (clamped to the episode), simulating forward as far as needed."""
        t = max(0, min(t, self.length - 1))
        while len(self.frames) <= t:
            self._advance()
        return self.frames[t]

    def verify(self) -> int | None:
        """Simulates to the end; the first mismatching step, or None when the replay is exact."""
        self.frame(self.length - 1)
        return self.mismatch

    def close(self) -> None:
        """Frees the env (and its pygame surfaces)."""
        close_env(self.env)
