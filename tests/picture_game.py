"""lights: a cooperative game seen only in pictures, where one frame is not enough (tests/test_images.py).

Each lamp sees a 32x32 colour picture with one quadrant lit, a new one drawn every step, and scores a point
for naming the quadrant that was lit one step before (at the first step, the one lit now). A team that sees
one frame can only guess the last quadrant (1/4 of the points after the first step); two stacked frames show
it, so the declared `Frames(stack=2)` is what makes the game learnable.
"""

import dataclasses
import functools

import numpy as np
from gymnasium.spaces import Box, Discrete
from pettingzoo import ParallelEnv

from games import GameSpec
from games.frames import Frames

SIDE = 32
"""The picture's side in pixels (`Lights(side=...)` for another)."""


class Lights(ParallelEnv):
    metadata = {"name": "lights_v0", "render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, max_steps=8, render_mode=None, side=SIDE):
        self.max_steps, self.render_mode, self.side = max_steps, render_mode, side
        self.possible_agents = ["lamp_0", "lamp_1"]

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent):
        return Box(0, 255, (self.side, self.side, 3), np.uint8)

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent):
        return Discrete(4)

    def reset(self, seed=None, options=None):
        self.rng = np.random.default_rng(seed)
        self.lit = self.rng.integers(4, size=2)
        self.before = self.lit.copy()
        self.t, self.agents = 0, list(self.possible_agents)
        return self._observe(), {a: {} for a in self.agents}

    def step(self, actions):
        rewards = {a: float(actions[a] == self.before[i]) for i, a in enumerate(self.possible_agents)}
        self.before, self.lit = self.lit, self.rng.integers(4, size=2)
        self.t += 1
        over = self.t >= self.max_steps
        agents, obs = self.agents, self._observe()
        self.agents = [] if over else self.agents
        return obs, rewards, {a: False for a in agents}, {a: over for a in agents}, {a: {} for a in agents}

    def _picture(self, quadrant):
        image = np.zeros((self.side, self.side, 3), np.uint8)
        half = self.side // 2
        row, col = divmod(int(quadrant), 2)
        image[row * half:(row + 1) * half, col * half:(col + 1) * half] = (250, 200, 40)
        return image

    def _observe(self):
        return {a: self._picture(self.lit[i]) for i, a in enumerate(self.possible_agents)}

    def state(self):
        return np.array([*self.lit, *self.before, self.t])

    def render(self):
        return np.concatenate([self._picture(q) for q in self.lit], axis=1)


def scripted(obs, info):
    """The plan: read the older of the two stacked frames (channel 0) and name its lit quadrant."""
    older = obs[..., : 16 * 16].reshape(*obs.shape[:-1], 2, 8, 2, 8).mean(axis=(-3, -1))  # (B, n, 2, 2)
    return older.reshape(*obs.shape[:-1], 4).argmax(-1)


SPEC = GameSpec(name="picture_game:SPEC", env_fn=Lights, summary="name the quadrant lit one step before",
                options={"max_steps": 8}, frames=Frames(height=16, width=16, grey=True, stack=2),
                scripted=scripted)
"""The game with its pictures prepared: 16x16 grey, 2 frames."""
ONE_FRAME = dataclasses.replace(SPEC, name="picture_game:ONE_FRAME", frames=Frames(16, 16, True, 1), scripted=None)
"""The same game seen one frame at a time: not learnable past guessing."""
TALL = dataclasses.replace(SPEC, name="picture_game:TALL", frames=Frames(height=10_000))
NO_FRAMES = dataclasses.replace(SPEC, name="picture_game:NO_FRAMES", frames=Frames(stack=0))
GREY_WORD = dataclasses.replace(SPEC, name="picture_game:GREY_WORD", frames=Frames(grey="yes"))
HUGE = dataclasses.replace(SPEC, name="picture_game:HUGE", env_fn=lambda **kw: Lights(side=2048, **kw),
                           frames=Frames(height=512, width=512, grey=False, stack=2))
