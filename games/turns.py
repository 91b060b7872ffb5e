"""Turn-based games and legal-move masks, spoken in the league's one dialect: a parallel env, flat observations.

PettingZoo's own API is turn by turn (`AECEnv`: one agent to move, `agent_selection`), and its classic games give
each agent a Dict observation `{observation, action_mask}` (or the mask in `infos`). `Turns` wraps such an env
into what the rest of the league already plays (batches, matches, replays, the viewer):
- a step is one turn: only the agents in `acting` move (the one to move in an AEC env; in a parallel one every
  live agent with a legal move), the other agents' actions are ignored, and agents that ended are stepped out
  with None;
- an observation is flat: the env's observation, then the role's legal-move mask (1 legal, 0 not), so every
  policy sees its legal moves where `GameInfo.masks` says (`legal_moves` reads them);
- a move that is not legal is never sent to the env: it is one GameError line naming the game, the agent and
  the turn, as is a mask with no legal move, or an env that rejects a move its mask called legal.
An env that ends by itself (Hanabi) has no truncation to find a horizon by: `horizon` cuts it off, as every
caller's buffers and replays assume a most number of steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from games.spec import GameError, one_line


def dict_parts(space: Any, agent: str) -> tuple[Any, Any] | None:
    """A Dict observation space's (observation, action_mask) subspaces; None for any other space. A Dict without
    an `observation` entry raises, since nothing says what the agent sees."""
    if type(space).__name__ != "Dict":
        return None
    if "observation" not in space.spaces:
        raise GameError(f"{agent}'s observation space is a Dict without 'observation' (it has "
                        f"{', '.join(map(str, space.spaces))}); only Dicts of an observation and an action_mask")
    return space.spaces["observation"], space.spaces.get("action_mask")


def is_aec(env: Any) -> bool:
    """A PettingZoo AECEnv (or wrapper of one), or anything that acts like one (`observe` and `last`): asked
    without `agent_selection`, which PettingZoo's wrappers refuse to read before a reset."""
    from pettingzoo import AECEnv

    return isinstance(env, AECEnv) or (hasattr(type(env), "observe") and hasattr(type(env), "last"))


def needs_turns(env: Any) -> bool:
    """Whether an env needs `Turns`: an AEC env, or one whose observations are Dicts."""
    if is_aec(env):
        return True
    return any(type(env.observation_space(a)).__name__ == "Dict" for a in env.possible_agents)


class Turns:
    """An AEC env (or a parallel env with masks) as a parallel env whose step is one turn and whose observations
    are flat vectors with the legal-move mask appended (see the module docstring)."""

    def __init__(self, env: Any, game: str, masked: bool) -> None:
        self.env = env
        self.game = game
        self.turn_based = is_aec(env)
        self.masked = masked
        """Observations end with a legal-move mask (the env gives one, as a Dict entry or in `infos`)."""
        self.horizon: int | None = None
        """Turns after which an episode is cut off (set by `GameSpec.make_env` once the horizon is known)."""
        self.possible_agents = list(env.possible_agents)
        self.metadata = getattr(env, "metadata", {})
        self.render_mode = getattr(env, "render_mode", None)
        self.turn = 0
        self.agents: list[str] = []
        self._obs: dict[str, Any] = {}
        self._infos: dict[str, Any] = {}
        self._legal: dict[str, np.ndarray] = {}
        self._spaces: dict[str, Any] = {}

    # ------------------------------------------------------------ the spaces the league sees
    def observation_space(self, agent: str) -> Any:
        """A flat Box: the observation's numbers, then (masked games) one 0/1 per action; the same object every
        time (PettingZoo's caching contract)."""
        from gymnasium.spaces import Box

        if agent not in self._spaces:
            size = int(np.prod(self._inner_space(agent).shape)) + (self.n_actions(agent) if self.masked else 0)
            self._spaces[agent] = Box(-np.inf, np.inf, (size,), np.float32)
        return self._spaces[agent]

    def _inner_space(self, agent: str) -> Any:
        space = self.env.observation_space(agent)
        parts = dict_parts(space, agent)
        if parts is None:
            return space
        if parts[0] is None or type(parts[0]).__name__ != "Box":
            raise GameError(f"{self.game}: {agent}'s observation {parts[0]} is not supported (only a Box)")
        return parts[0]

    def action_space(self, agent: str) -> Any:
        return self.env.action_space(agent)

    def n_actions(self, agent: str) -> int:
        space = self.env.action_space(agent)
        if self.masked and type(space).__name__ != "Discrete":
            raise GameError(f"{self.game}: {agent}'s action space {space} has a legal-move mask; masks are "
                            f"supported for Discrete actions only")
        return int(getattr(space, "n", 0))

    # ------------------------------------------------------------ playing
    @property
    def acting(self) -> list[str]:
        """The agents that move this turn: the one to move (AEC), or every live agent with a legal move
        (parallel: one whose mask is all zeros waits, left out of the turn's actions)."""
        if not self.agents:
            return []
        if self.turn_based:
            return [self.env.agent_selection]
        return [a for a in self.agents if self.legal_moves(a).any()]

    def legal_moves(self, agent: str) -> np.ndarray:
        """`(A,)` bool: the moves `agent` may take now (all of them in a game without masks)."""
        return self._legal.get(agent, np.ones(self.n_actions(agent), dtype=bool))

    def reset(self, seed: int | None = None, options: Any = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        self.turn = 0
        if self.turn_based:
            self._call("reset", self.env.reset, seed=seed, options=options)
            self._skip_ended()
            obs, infos = {a: self.env.observe(a) for a in self.env.agents}, dict(self.env.infos)
        else:
            obs, infos = self._call("reset", self.env.reset, seed=seed, options=options)
        return self._read(obs, infos), self._infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """One turn: the acting agents' actions (checked legal first), the others' ignored. Returns PettingZoo's
        five dicts for the agents live before the turn; rewards are what the turn earned each agent."""
        before = list(self.agents)
        chosen = {}
        for agent in self.acting:
            if agent not in actions:
                raise GameError(f"{self.game}: no move for {agent} at turn {self.turn}")
            move = int(actions[agent])
            legal = self.legal_moves(agent)
            if not 0 <= move < len(legal) or not legal[move]:
                raise GameError(f"{self.game}: {agent} chose move {move} at turn {self.turn}, which is not legal "
                                f"(legal: {', '.join(map(str, np.flatnonzero(legal)))})")
            chosen[agent] = move
        rewards = dict.fromkeys(before, 0.0)
        if self.turn_based:
            (agent, move), = chosen.items()
            self._call(f"{agent}'s move {move} at turn {self.turn}", self.env.step, move)
            rewards.update({a: float(r) for a, r in self.env.rewards.items() if a in rewards})
            terminations = {a: bool(self.env.terminations.get(a, True)) for a in before}
            truncations = {a: bool(self.env.truncations.get(a, False)) for a in before}
            self._skip_ended()
            obs, infos = {a: self.env.observe(a) for a in self.env.agents}, dict(self.env.infos)
        else:
            obs, r, terminations, truncations, infos = self._call(f"the move at turn {self.turn}", self.env.step,
                                                                  chosen)
            rewards.update({a: float(v) for a, v in r.items() if a in rewards})
        self.turn += 1
        if self.horizon is not None and self.turn >= self.horizon:  # cut off: every agent still in is truncated
            truncations = dict.fromkeys(before, True)
            self.agents, self._legal, self._infos = [], {}, {}
            return {}, rewards, terminations, truncations, {}
        return self._read(obs, infos), rewards, terminations, truncations, self._infos

    def _skip_ended(self) -> None:
        """Steps out agents that ended (PettingZoo's AEC asks each of them for a None move in turn)."""
        env = self.env
        while env.agents and (env.terminations.get(env.agent_selection) or env.truncations.get(env.agent_selection)):
            self._call("stepping out an agent that ended", env.step, None)

    def _read(self, obs: dict[str, Any], infos: dict[str, Any]) -> dict[str, np.ndarray]:
        """The env's observations as flat vectors with the mask appended; checks the acting agents can move."""
        self.agents = list(self.env.agents)
        self._infos = {a: infos.get(a, {}) for a in self.agents}
        flat, self._legal = {}, {}
        for agent in self.agents:
            value, mask = obs.get(agent), None
            if isinstance(value, dict):
                if "observation" not in value:
                    raise GameError(f"{self.game}: {agent}'s observation is a dict without 'observation'")
                value, mask = value["observation"], value.get("action_mask")
            if mask is None and isinstance(self._infos[agent], dict):
                mask = self._infos[agent].get("action_mask")
            numbers = np.asarray(value, dtype=np.float32).reshape(-1)
            if self.masked:
                if mask is None:
                    raise GameError(f"{self.game}: {agent} has no legal-move mask at turn {self.turn} (its "
                                    f"observations had one before)")
                legal = np.asarray(mask).reshape(-1).astype(bool)
                if legal.size != self.n_actions(agent):
                    raise GameError(f"{self.game}: {agent}'s legal-move mask has {legal.size} entries for "
                                    f"{self.n_actions(agent)} actions")
                self._legal[agent] = legal
                numbers = np.concatenate([numbers, legal.astype(np.float32)])
            flat[agent] = numbers
        if self.turn_based and not self.legal_moves(self.env.agent_selection).any():
            raise GameError(f"{self.game}: {self.env.agent_selection} has no legal move at turn {self.turn} (its "
                            f"mask is all zeros)")
        if self.agents and not self.acting:
            raise GameError(f"{self.game}: no agent has a legal move at turn {self.turn} (every mask is all zeros)")
        return flat

    def _call(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except GameError:
            raise
        except Exception as e:
            hint = "" if self.masked else " (the game gives no legal-move mask, so every move was taken as legal)"
            raise GameError(f"{self.game}: the env raised {type(e).__name__} in {what}: {one_line(e)}{hint}") from e

    # ------------------------------------------------------------ passed through
    def state(self) -> Any:
        return self.env.state()

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()

    @property
    def unwrapped(self) -> Any:
        return self.env.unwrapped


def masked_env(env: Any) -> bool:
    """Whether an env gives legal-move masks: a Dict observation with `action_mask`, or `action_mask` in the infos
    after a reset (read from a reset env)."""
    for a in env.possible_agents:
        parts = dict_parts(env.observation_space(a), a)
        if parts is not None and parts[1] is not None:
            return True
    infos = getattr(env, "infos", None) or {}
    return any(isinstance(i, dict) and "action_mask" in i for i in infos.values())


def legal_moves(obs: np.ndarray, info: Any) -> np.ndarray:
    """`(..., n, A)` bool from observations `(..., n, D)`: each seat's legal moves, read from the mask its role's
    observation ends with (`GameInfo.masks`); every action of its role where the game has no mask."""
    obs = np.asarray(obs)
    A = max(info.n_actions.values())
    legal = np.zeros((*obs.shape[:-1], A), dtype=bool)
    for i, agent in enumerate(info.agents):
        role = info.role_of(agent)
        n = info.n_actions[role]
        start = info.masks.get(role)
        legal[..., i, :n] = True if start is None else obs[..., i, start:start + n] > 0.5
    return legal


def uniform_moves(rng: np.random.Generator, obs: np.ndarray, info: Any) -> np.ndarray:
    """Uniform random actions `(B, n)`: over every action of a seat's role, or, in a game with masks, over its
    legal moves (a seat with none, not its turn, gets 0, and draws nothing: late in a batch of turn-based games
    most seats are waiting or over); in a game of Box actions, `(B, n, d)` numbers uniform within each box.
    Games without masks draw exactly what they always drew."""
    if getattr(info, "continuous", False):  # Box actions: uniform numbers within each seat's box
        low, high = info.box_bounds()  # (n, d)
        return rng.uniform(low, high, size=(obs.shape[0], *low.shape)).astype(np.float32)  # (B, n, d)
    n_actions = np.array([info.n_actions[info.role_of(a)] for a in info.agents])
    if not info.masks:
        return rng.integers(0, n_actions, size=obs.shape[:2])
    legal = legal_moves(obs, info)  # (B, n, A)
    moves = np.zeros(legal.shape[:-1], dtype=np.int64)  # (B, n)
    acting = np.nonzero(legal.any(-1))  # the seats with a move: in a turn-based game one per game still playing
    choices = legal[acting]  # (k, A)
    moves[acting] = np.where(choices, rng.random(choices.shape), -1.0).argmax(-1)
    return moves
