"""Frames of an episode, re-simulated in the game's own PettingZoo env with its own drawing.

`EpisodeFrames` replays stored actions lazily, one step per frame asked for, checking each step's state
checksum; frames are kept (scaled to the panel) so stepping back is free. `agent_positions` knows where each
game draws its agents, so the viewer can mark seats (the human's, or which generation a mixed seat plays).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pygame

import games
from games.spec import close_env
from games.vector import unbatchify
from league.replays import NO_ACTION, state_checksum


def to_surface(rgb: np.ndarray, size: tuple[int, int]) -> pygame.Surface:
    """`(H, W, 3)` uint8 frame -> Surface scaled to `size` (width, height)."""
    surface = pygame.surfarray.make_surface(np.ascontiguousarray(rgb.swapaxes(0, 1)))
    return surface if surface.get_size() == size else pygame.transform.smoothscale(surface, size)


def agent_positions(env: Any) -> dict[str, tuple[float, float]]:
    """Where the env last drew each live agent, in its own frame's pixels (empty for unknown games)."""
    raw = env.unwrapped
    if hasattr(raw, "world"):  # mpe2: SimpleEnv.draw's camera transform
        entities = raw.world.entities
        cam = np.max(np.abs(np.array([e.state.p_pos for e in entities])))
        out = {}
        for agent in raw.world.agents:
            x, y = agent.state.p_pos
            out[agent.name] = ((x / cam) * raw.width // 2 * 0.9 + raw.width // 2,
                               (-y / cam) * raw.height // 2 * 0.9 + raw.height // 2)
        return out
    if hasattr(raw, "agent_map"):  # knights_archers_zombies: sprites
        return {name: sprite.rect.center for name, sprite in raw.agent_map.items() if name in env.agents}
    if hasattr(raw, "env") and hasattr(raw.env, "pursuer_layer"):  # pursuit: grid cells
        base, scale = raw.env, raw.env.pixel_scale
        return {f"pursuer_{i}": (scale * x + scale / 2, scale * y + scale / 2)
                for i, (x, y) in ((i, base.pursuer_layer.get_position(i))
                                  for i in range(base.pursuer_layer.n_agents()))}
    return {}


def panel_positions(env: Any, source: tuple[int, int], panel: tuple[int, int]) -> dict[str, tuple[float, float]]:
    """`agent_positions` scaled from the game's frame size `source` (width, height) to `panel`."""
    sx, sy = panel[0] / source[0], panel[1] / source[1]
    return {a: (x * sx, y * sy) for a, (x, y) in agent_positions(env).items()}


class EpisodeFrames:
    """One stored episode, re-simulated frame by frame. Frame t is the state after t steps."""

    def __init__(self, game: str, game_kwargs: dict[str, Any], seed: int, actions: np.ndarray,
                 checksums: np.ndarray, panel: tuple[int, int]) -> None:
        self.spec = games.get(game)
        self.actions, self.checksums = actions, checksums
        self.length = len(actions) + 1
        self.panel = panel
        self.env = self.spec.make_env(render_mode="rgb_array", **game_kwargs)
        self.agents = tuple(self.env.possible_agents)
        self.env.reset(seed=int(seed))
        self.source_size = self.env.render().shape[1::-1]  # (width, height) the game draws at
        self.frames: list[pygame.Surface] = [to_surface(self.env.render(), panel)]
        self.positions: list[dict[str, tuple[float, float]]] = [panel_positions(self.env, self.source_size, panel)]
        self.returns = [0.0]
        self.mismatch: int | None = None
        """First step whose checksum differed from the stored one (the replay is not what was played)."""

    def _advance(self) -> None:
        t = len(self.frames) - 1
        row = self.actions[t]
        live = [a for a in self.env.agents if row[self.agents.index(a)] != NO_ACTION]
        _, rewards, *_ = self.env.step(unbatchify(row, self.agents, live))
        if self.mismatch is None and state_checksum(self.env) != int(self.checksums[t]):
            self.mismatch = t
        self.returns.append(self.returns[-1] + self.spec.team_reward_of(rewards, self.agents))
        self.frames.append(to_surface(self.env.render(), self.panel))
        self.positions.append(panel_positions(self.env, self.source_size, self.panel))

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
