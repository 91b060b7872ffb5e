"""cover: two walkers on a grid must each stand on a different goal cell (a cooperative PettingZoo game)."""
import functools

import numpy as np
from gymnasium.spaces import Box, Discrete
from pettingzoo import ParallelEnv

MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])  # no-op, left, right, down, up


class Cover(ParallelEnv):
    metadata = {"name": "cover_v0", "render_modes": ["rgb_array"], "render_fps": 5}

    def __init__(self, size=6, max_steps=20, render_mode=None):
        self.size, self.max_steps, self.render_mode = size, max_steps, render_mode
        self.possible_agents = ["walker_0", "walker_1"]

    @functools.lru_cache(maxsize=None)  # the same space object every time, as PettingZoo asks
    def observation_space(self, agent):
        return Box(-1.0, 1.0, (8,), np.float32)  # own cell, then the other walker and both goals relative to it

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent):
        return Discrete(5)

    def reset(self, seed=None, options=None):
        cells = np.random.default_rng(seed).choice(self.size**2, 4, replace=False)
        self.pos, self.goals = np.divmod(cells[:2], self.size), np.divmod(cells[2:], self.size)
        self.pos, self.goals = np.stack(self.pos, 1), np.stack(self.goals, 1)
        self.t, self.agents = 0, list(self.possible_agents)
        return self._observe(), {a: {} for a in self.agents}

    def step(self, actions):
        for i, agent in enumerate(self.possible_agents):
            self.pos[i] = np.clip(self.pos[i] + MOVES[actions[agent]], 0, self.size - 1)
        self.t += 1
        gap = np.abs(self.goals[:, None] - self.pos[None]).sum(-1).min(1).sum()  # each goal to its nearest walker
        over = self.t >= self.max_steps
        obs, agents = self._observe(), self.agents
        self.agents = [] if over else self.agents
        return (obs, {a: -gap / self.size for a in agents}, {a: False for a in agents},
                {a: over for a in agents}, {a: {} for a in agents})

    def _observe(self):
        rel = lambda i: np.concatenate([self.pos[1 - i] - self.pos[i], *(self.goals - self.pos[i])])
        return {a: np.concatenate([self.pos[i], rel(i)]).astype(np.float32) / self.size
                for i, a in enumerate(self.possible_agents)}

    def state(self):
        return np.concatenate([self.pos.ravel(), self.goals.ravel(), [self.t]])

    def render(self):
        image = np.full((self.size * 40, self.size * 40, 3), 235, dtype=np.uint8)
        for (x, y), colour in zip([*self.goals, *self.pos], [(60, 180, 75)] * 2 + [(230, 25, 75), (0, 130, 200)]):
            image[(self.size - 1 - y) * 40 + 6:(self.size - y) * 40 - 6, x * 40 + 6:(x + 1) * 40 - 6] = colour
        return image


# Optional: what the league cannot guess. A scripted plan gives normalized scores and partner scores.
from games import GameSpec  # noqa: E402


def plan(obs, info):
    """Both walkers split the goals by least total distance (ties: the lower-left walker takes goal 0) and
    step along the axis where their goal is furthest. obs `(B, 2, 8)` -> actions `(B, 2)`."""
    me, other = obs[..., 0:2], obs[..., 0:2] + obs[..., 2:4]  # (B, 2, 2) cells / size
    goals = obs[..., None, 0:2] + obs[..., 4:8].reshape(*obs.shape[:-1], 2, 2)  # (B, 2, goal, 2)
    cost = np.abs(goals - me[..., None, :]).sum(-1)  # (B, 2, goal) my distance to each goal
    cost_other = np.abs(goals - other[..., None, :]).sum(-1)
    straight, swapped = cost[..., 0] + cost_other[..., 1], cost[..., 1] + cost_other[..., 0]
    lower = (me[..., 0] < other[..., 0]) | ((me[..., 0] == other[..., 0]) & (me[..., 1] < other[..., 1]))
    mine = np.where(np.isclose(straight, swapped), ~lower, swapped < straight).astype(int)  # (B, 2)
    gap = np.take_along_axis(goals, mine[..., None, None], axis=-2)[..., 0, :] - me  # (B, 2, 2)
    along_x = np.abs(gap[..., 0]) >= np.abs(gap[..., 1])
    move = np.where(along_x, np.where(gap[..., 0] < 0, 1, 2), np.where(gap[..., 1] < 0, 3, 4))
    return np.where(np.abs(gap).sum(-1) < 1e-6, 0, move)


SPEC = GameSpec(name="cover", env_fn=Cover, summary="two walkers cover two goal cells", scripted=plan)
