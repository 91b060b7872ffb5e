"""Generic batch runner: B real PettingZoo envs behind the same array interface as a vectorized core.

Training code asks a game for `batch(B)` and never cares whether it got a fast core or this runner. Agents that
are gone (dead knights, caught-up episodes) are masked out through `alive`; their observations are zeros and
their rewards 0. An episode that has ended stays ended until the next `reset` (no auto-reset: GRPO plays whole
episodes from chosen seeds).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from games.spec import GameSpec, close_env, guarded, role_of


def batchify(values: dict[str, Any], agents: Sequence[str], width: int | None = None) -> np.ndarray:
    """Agent-keyed dict -> array `(n_agents, width)` in `agents` order; missing agents and short rows are 0.

    Observations are flattened, so grids and entity tables become plain vectors. `width=None` stores scalars
    (rewards, actions) as `(n_agents,)`.
    """
    if width is None:
        return np.array([float(values.get(a, 0.0)) for a in agents], dtype=np.float32)
    out = np.zeros((len(agents), width), dtype=np.float32)
    for i, a in enumerate(agents):
        if a in values:
            flat = np.asarray(values[a], dtype=np.float32).reshape(-1)
            out[i, : flat.size] = flat
    return out


def unbatchify(actions: np.ndarray, agents: Sequence[str], present: Sequence[str],
               nvec: dict[str, tuple[int, ...]] | None = None,
               boxes: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] | None = None) -> dict[str, Any]:
    """Row of actions `(n_agents,)` -> `{agent: action}` for the agents still `present` in the env. Roles in
    `nvec` (`GameInfo.action_nvec`) play a MultiDiscrete space: their joint index becomes its parts. With `boxes`
    (`GameInfo.action_boxes`) the row is `(n_agents, d)` numbers: each agent gets its role's first ones as float32,
    clipped to its box."""
    index = {a: i for i, a in enumerate(agents)}
    out: dict[str, Any] = {}
    if boxes:
        for a in present:
            low, high = boxes[role_of(a)]
            row = np.asarray(actions[index[a]], dtype=np.float32)[: len(low)]
            out[a] = np.clip(row, np.float32(low), np.float32(high))
        return out
    for a in present:
        parts = (nvec or {}).get(role_of(a))
        out[a] = np.array(np.unravel_index(int(actions[index[a]]), parts), dtype=np.int64) if parts \
            else int(actions[index[a]])
    return out


def joint_parts(nvec: Sequence[int]) -> np.ndarray:
    """`(prod(nvec), len(nvec))` int64: row k is joint action k's parts, as `unbatchify` unravels it."""
    return np.array(np.unravel_index(np.arange(int(np.prod(nvec))), tuple(nvec)), dtype=np.int64).T.copy()


def acting(env: Any) -> list[str]:
    """The agents that move in an env's next step: every live agent, or in a turn-based game (`games.turns.Turns`)
    the one whose turn it is."""
    return env.acting if hasattr(env, "acting") else env.agents


class VectorBatch:
    """B PettingZoo parallel envs stepped in a loop, exposing `(B, n_agents, ...)` arrays. `alive` marks the
    agents that move next (in a turn-based game only the one whose turn it is)."""

    def __init__(self, spec: GameSpec, num_envs: int, **kwargs: Any) -> None:
        self.spec = spec
        self.kwargs = kwargs
        self.info = spec.info(**kwargs)
        self.agents = self.info.agents
        self.num_envs = num_envs
        self.obs_dim = self.info.max_obs_dim
        self.envs = [spec.make_env(**kwargs) for _ in range(num_envs)]
        self.alive = np.zeros((num_envs, len(self.agents)), dtype=bool)
        self.done = np.ones(num_envs, dtype=bool)
        self.last_obs = np.zeros((num_envs, len(self.agents), self.obs_dim), dtype=np.float32)  # (B, n, D)
        # What `unbatchify` and `batchify` look up on every call, looked up once: each agent's row, and for
        # MultiDiscrete roles the parts of every joint action.
        self._rows = tuple(enumerate(self.agents))
        self._index = {a: i for i, a in self._rows}
        self._parts = {a: joint_parts(self.info.action_nvec[role_of(a)]) for a in self.agents
                       if self.info.action_nvec.get(role_of(a))}
        self._bounds = self.info.box_bounds() if self.info.continuous else None  # (n, d) low, high
        self._numbers = {a: self.info.n_actions[role_of(a)] for a in self.agents}  # a Box action's numbers

    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Start every env from its seed; returns obs `(B, n_agents, obs_dim)` float32."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"need {self.num_envs} seeds, got {len(seeds)}")
        obs = np.zeros((self.num_envs, len(self.agents), self.obs_dim), dtype=np.float32)
        for b, (env, seed) in enumerate(zip(self.envs, seeds)):
            o, _ = guarded(self.spec, "reset", env.reset, seed=int(seed))
            self._fill(obs[b], o)
            self.alive[b] = [a in acting(env) for a in self.agents]
        self.done[:] = False
        self.last_obs = obs
        return obs

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, n_agents)` int (a game of Box actions: `(B, n_agents, d)` numbers, clipped to each box) ->
        obs `(B, n, obs_dim)`, rewards `(B, n)`, done `(B,)`.

        Actions of gone agents and of finished envs are ignored.
        """
        B, n = self.num_envs, len(self.agents)
        obs = np.zeros((B, n, self.obs_dim), dtype=np.float32)
        rewards = np.zeros((B, n), dtype=np.float32)
        # Per env exactly `unbatchify` then `batchify` (tests/test_games.py checks it against single envs), with
        # their lookups hoisted out of the loop: this loop is all the generic runner adds to the envs' own time.
        index, parts, agents, alive, done = self._index, self._parts, self.agents, self.alive, self.done
        boxed = None if self._bounds is None else np.clip(np.asarray(actions, dtype=np.float32), *self._bounds)
        rows = np.asarray(actions).tolist() if boxed is None else None  # Python numbers: cheaper to index
        for b in np.flatnonzero(~done).tolist():
            env = self.envs[b]
            if boxed is not None:  # Box actions (B, n, d): each agent its role's first numbers
                chosen = {a: boxed[b, index[a], : self._numbers[a]].copy() for a in env.agents}
            else:
                chosen, row = {}, rows[b]
                for a in env.agents:
                    k = int(row[index[a]])
                    table = parts.get(a)
                    chosen[a] = k if table is None else table[k].copy() if 0 <= k < len(table) else \
                        np.array(np.unravel_index(k, self.info.action_nvec[role_of(a)]), dtype=np.int64)
            o, r, _, _, _ = guarded(self.spec, "step", env.step, chosen)
            self._fill(obs[b], o)
            rewards[b] = [float(r.get(a, 0.0)) for a in agents]
            present = acting(env)
            alive[b] = [a in present for a in agents]
            done[b] = not env.agents
        self.last_obs = obs
        return obs, rewards, done.copy()

    def _fill(self, out: np.ndarray, values: dict[str, Any]) -> None:
        """`batchify(values, agents, width)` written straight into `out` `(n, width)`, which holds zeros."""
        for i, a in self._rows:
            if a in values:
                flat = np.asarray(values[a], dtype=np.float32).reshape(-1)
                out[i, : flat.size] = flat

    def close(self) -> None:
        """Close every env (frees pygame surfaces some games hold)."""
        for env in self.envs:
            close_env(env)
