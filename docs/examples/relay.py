"""relay: three players in turn claim cells of a shared board; the team scores the values it claims.

A turn-based PettingZoo game (AECEnv): one player moves per step, and a claimed cell is not a legal move (the
observation is a Dict of the board and an `action_mask`, as in PettingZoo's classic games).
"""
import functools

import numpy as np
from gymnasium.spaces import Box, Dict, Discrete
from pettingzoo import AECEnv
from pettingzoo.utils import AgentSelector

CELLS, PLAYERS, ROUNDS = 9, 3, 2  # each player claims ROUNDS cells: 6 of the 9


class Relay(AECEnv):
    metadata = {"name": "relay_v0", "render_modes": ["rgb_array"], "render_fps": 2, "is_parallelizable": False}

    def __init__(self, render_mode=None):
        super().__init__()
        self.render_mode = render_mode
        self.possible_agents = [f"player_{i}" for i in range(PLAYERS)]

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent):
        board = Box(0.0, 1.0, (2 * CELLS + PLAYERS,), np.float32)  # values, claimed, whose turn (one-hot)
        return Dict({"observation": board, "action_mask": Box(0, 1, (CELLS,), np.int8)})

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent):
        return Discrete(CELLS)  # the cell to claim

    def reset(self, seed=None, options=None):
        self.values = np.random.default_rng(seed).integers(0, 4, CELLS)  # 0..3 points a cell
        self.claimed = np.zeros(CELLS, dtype=bool)
        self.agents = list(self.possible_agents)
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {a: {} for a in self.agents}

    def observe(self, agent):
        turn = np.eye(PLAYERS)[self.possible_agents.index(self.agent_selection)]
        board = np.concatenate([self.values / 3, self.claimed, turn]).astype(np.float32)
        mine = agent == self.agent_selection
        return {"observation": board, "action_mask": (~self.claimed & mine).astype(np.int8)}

    def step(self, action):
        if self.terminations[self.agent_selection] or self.truncations[self.agent_selection]:
            return self._was_dead_step(action)
        if self.claimed[action]:
            raise ValueError(f"cell {action} is already claimed")
        self.claimed[action] = True
        self.rewards = dict.fromkeys(self.agents, float(self.values[action]))  # the team's points, shared
        if self.claimed.sum() == PLAYERS * ROUNDS:
            self.terminations = dict.fromkeys(self.agents, True)
        self._cumulative_rewards = {a: self._cumulative_rewards[a] + r for a, r in self.rewards.items()}
        self.agent_selection = self._selector.next()

    def state(self):
        return np.concatenate([self.values, self.claimed, [self.possible_agents.index(self.agent_selection)]])

    def render(self):
        image = np.full((60, CELLS * 60, 3), 235, dtype=np.uint8)
        for i, (value, claimed) in enumerate(zip(self.values, self.claimed)):
            image[10:50, i * 60 + 10:i * 60 + 50] = (60, 180, 75) if claimed else (40 + 60 * value,) * 3
        return image


def env(render_mode=None):
    return Relay(render_mode)


# Optional: a scripted plan (the best free cell, every turn) gives normalized scores.
from games import GameSpec  # noqa: E402


def greedy(obs, info):
    """The player to move claims the most valuable free cell. obs `(B, 3, D)` (the board, then the mask) ->
    actions `(B, 3)` (only the mover's counts)."""
    values, legal = obs[..., :CELLS], obs[..., -CELLS:] > 0.5  # (B, 3, CELLS)
    return np.where(legal, values, -1.0).argmax(-1)


SPEC = GameSpec(name="relay", env_fn=Relay, summary="three players in turn claim the best cells", scripted=greedy,
                horizon=PLAYERS * ROUNDS)  # it ends by itself: the most turns it lasts
