"""guide: a guide who sees the goal names it with one of four words; a walker on a corridor who hears the
word walks there, one or two cells a step. Roles with different spaces, MultiDiscrete actions, an episode
that ends early when the walker arrives, and no `state()` (replays checksum the observations)."""
import functools

import numpy as np
from gymnasium.spaces import Box, Discrete, MultiDiscrete
from pettingzoo import ParallelEnv

from games import GameSpec

GOALS = np.array([0, 3, 9, 12])  # the cells a goal can be on; the walker starts in the middle (6)


class Guide(ParallelEnv):
    metadata = {"name": "guide_v0", "render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, max_steps=12, render_mode=None):
        self.max_steps, self.render_mode = max_steps, render_mode
        self.possible_agents = ["guide_0", "walker_0"]

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent):
        return Box(0.0, 1.0, (4,) if agent == "guide_0" else (6,), np.float32)

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent):  # guide: a word; walker: (left / stay / right, walk / run)
        return Discrete(4) if agent == "guide_0" else MultiDiscrete([3, 2])

    def reset(self, seed=None, options=None):
        self.goal, self.cell, self.word, self.t = int(np.random.default_rng(seed).integers(4)), 6, 0, 0
        self.agents = list(self.possible_agents)
        return self._observe(), {a: {} for a in self.agents}

    def step(self, actions):
        self.word = int(actions["guide_0"])
        way, run = actions["walker_0"]
        self.cell = int(np.clip(self.cell + (int(way) - 1) * (1 + int(run)), 0, 12))
        self.t += 1
        arrived, over = self.cell == GOALS[self.goal], self.t >= self.max_steps
        reward = 1.0 if arrived else -abs(self.cell - GOALS[self.goal]) / 12
        agents, self.agents = self.agents, [] if arrived or over else self.agents
        return (self._observe(), {a: reward for a in agents}, {a: arrived for a in agents},
                {a: over and not arrived for a in agents}, {a: {} for a in agents})

    def _observe(self):
        heard = np.eye(4)[self.word]
        return {"guide_0": np.eye(4, dtype=np.float32)[self.goal],
                "walker_0": np.concatenate([[self.cell / 12, self.t / self.max_steps], heard]).astype(np.float32)}

    def render(self):
        image = np.full((60, 13 * 30, 3), 235, dtype=np.uint8)
        image[10:50, GOALS[self.goal] * 30 + 4:GOALS[self.goal] * 30 + 26] = (60, 180, 75)
        image[18:42, self.cell * 30 + 8:self.cell * 30 + 22] = (230, 25, 75)
        return image


def plan(obs, info):
    """The guide names the goal by its index; the walker runs toward the goal its word names, walking the
    last cell. obs `(B, 2, 6)` -> actions `(B, 2)` (the walker's as the joint index way * 2 + run)."""
    word = np.argmax(obs[:, 0, :4], axis=-1)
    heard = GOALS[np.argmax(obs[:, 1, 2:6], axis=-1)]
    gap = heard - np.rint(obs[:, 1, 0] * 12).astype(int)
    way = np.sign(gap) + 1
    run = (np.abs(gap) >= 2).astype(int)
    return np.stack([word, way * 2 + run], axis=1)


SPEC = GameSpec(name="guide", env_fn=Guide, summary="a guide names the goal, a walker walks there", scripted=plan)
