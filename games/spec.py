"""The one description every game gives: how to make it, who plays, how the team scores, how a human plays.

A `GameSpec` is a thin layer over the real PettingZoo `ParallelEnv`; it never changes the game. Training,
storage and the viewer only ever talk to a game through this description, so adding a game is one module.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class GameError(ValueError):
    """A game was asked for with a name or options it does not have; the message says which ones it has."""


@dataclass(frozen=True)
class KeyMap:
    """How a person drives one seat: pygame key names (`pygame.key.name`) -> discrete action.

    Held keys keep acting every frame; when several mapped keys are held, the one listed first wins, so
    the map is also a priority order.
    """

    keys: dict[str, int]
    """Key name -> action index, in priority order."""
    idle: int
    """Action taken on a frame where no mapped key is held (the game's no-op, or its nearest thing)."""
    help: str
    """One line for the viewer's help overlay and the README."""


@dataclass(frozen=True)
class Targets:
    """Where a role's observation lists the places its agent may head for (simple_spread's landmarks), so a
    policy can learn *which* place to take apart from *how* to get there (`league.policy.ChooseAndSteer`)."""

    velocity: int
    """Index of the agent's own velocity (x, y) in the flat observation."""
    first: int
    """Index where the targets start: `count` (x, y) positions relative to the agent, one after another."""
    count: int
    """How many targets the observation lists."""
    teammates: int = 0
    """Index where teammates' (x, y) positions relative to the agent start (who is closer to which target)."""
    teammate_count: int = 0
    """How many teammates the observation lists (0: none)."""
    moves: int = 0
    """0: every action is a move. Above 0, an action is `move + moves * word` (simple_reference's Discrete(50)
    = 5 moves x 10 words): steering picks the move, and a separate head the word (`league.policy.MoveAndSay`)."""


@dataclass(frozen=True)
class Entities:
    """Where a role's observation is a table of entities, one row each (knights_archers_zombies' vector
    observation), and which rows are things to act on (zombies), so a policy can learn *which* one to take on
    apart from *how* (`league.policy.ChooseAndAct`). A row of zeros is an empty slot."""

    own: int
    """Row of the agent itself."""
    first: int
    """Row where the targets start: `count` rows, one per target slot."""
    count: int
    """How many target rows the table has."""
    width: int
    """Numbers per row; the flat observation is the table row after row. Rows read [distance, x, y, heading x,
    heading y]: the own row's x, y are its position, the others' are relative to it (KAZ's vector layout)."""
    aspect: float = 1.0
    """Height over width of the units x and y are in (KAZ divides x by 1280 px and y by 720 px: 0.5625), so a
    policy can turn the relative x, y of a row into a true direction and compare it with its own heading."""


@dataclass(frozen=True)
class Words:
    """Where a game whose agents talk (simple_speaker_listener, simple_reference) puts its words, so a person
    can be shown a team's code (`league.conventions`) and partner styles can speak the natural one."""

    words: int
    """How many words a speaker has."""
    colours: tuple[tuple[float, float, float], ...]
    """Landmark colours as the scenario sets them (landmark 0, 1, ..): what a speaker sees of its goal."""
    goal: dict[str, int]
    """Speaking role -> index of the goal colour (3 numbers) in its observation."""
    landmarks: dict[str, int]
    """Listening role -> index of the landmarks relative to the agent (L (x, y) pairs) in its observation."""
    hears: dict[str, str]
    """Listening seat -> the seat whose word it hears."""
    moves: int = 0
    """0: a speaker's action is its word; above 0 an action is `move + moves * word` (simple_reference)."""

    def word_of(self, role: str, actions: Any) -> Any:
        """The word in a role's actions (an int or an array of them); None for roles that do not speak."""
        if role not in self.goal:
            return None
        return actions // self.moves if self.moves else actions

    def saying(self, words: np.ndarray) -> np.ndarray:
        """The actions of a constant speaker that says `words` and does not move (move 0 is no-op)."""
        return words * self.moves if self.moves else words


@dataclass(frozen=True)
class GameInfo:
    """Facts about a game made with particular kwargs; read off a real env once and cached."""

    agents: tuple[str, ...]
    """`possible_agents`, in the env's order: the order of the agent axis in every batched array."""
    roles: dict[str, tuple[str, ...]]
    """Role -> its agents. Agents of one role share observation and action spaces (and one network)."""
    obs_shapes: dict[str, tuple[int, ...]]
    """Role -> observation shape as the env gives it (flattened to `obs_dims` in batches)."""
    n_actions: dict[str, int]
    """Role -> size of its Discrete action space."""
    horizon: int
    """Most environment steps an episode can last (`max_cycles`)."""
    fps: int
    """The env's `render_fps`: how fast a person sees and plays it."""
    targets: dict[str, Targets | Entities] = field(default_factory=dict)
    """Role -> where its observation lists places to head for (or entities to act on); empty for games (or
    options) without them."""

    @property
    def obs_dims(self) -> dict[str, int]:
        """Role -> flat observation length."""
        return {r: int(np.prod(s)) for r, s in self.obs_shapes.items()}

    @property
    def max_obs_dim(self) -> int:
        """Width of the padded observation axis in batches (roles with shorter observations are 0-padded)."""
        return max(self.obs_dims.values())

    def role_of(self, agent: str) -> str:
        """The role an agent belongs to."""
        return role_of(agent)


def close_env(env: Any) -> None:
    """Closes a PettingZoo env only when it owns a window (render_mode 'human'). mpe2, knights_archers_zombies
    and pursuit call `pygame.quit()` in `close()`, which would take down every window, font and surface of
    the process; a headless env holds nothing that garbage collection does not free."""
    if getattr(env, "render_mode", None) == "human":
        env.close()


def role_of(agent: str) -> str:
    """PettingZoo names agents `<role>_<index>` (agent_0, speaker_0, archer_1, pursuer_7)."""
    return agent.rsplit("_", 1)[0]


def mean_team_reward(rewards: np.ndarray) -> np.ndarray:
    """Team reward = mean over all seats (gone agents count 0): the per-agent return people quote."""
    return rewards.mean(axis=-1)


def sum_team_reward(rewards: np.ndarray) -> np.ndarray:
    """Team reward = sum over all seats: for games whose rewards count events (zombies killed)."""
    return rewards.sum(axis=-1)


@dataclass(frozen=True, eq=False)
class GameSpec:
    """One cooperative game: a name, the real PettingZoo env behind it and everything around it."""

    name: str
    """Registry name, used on the command line and stored in the database."""
    summary: str
    """One line shown by `league games`."""
    env_fn: Callable[..., Any]
    """The PettingZoo module's `parallel_env` (the reference implementation)."""
    options: dict[str, Any]
    """Every keyword option the env takes -> the value we use when not given (PettingZoo's default unless
    the game module says why not). Must include `max_cycles`, the horizon."""
    key_maps: dict[str, KeyMap]
    """Role -> key map for human play."""
    team_reward_fn: Callable[[np.ndarray], np.ndarray] = mean_team_reward
    """Per-agent rewards `(..., n_agents)` of one step -> team reward `(...)`; applied once, after the step."""
    batch_core: Callable[..., Any] | None = None
    """`(num_envs, **kwargs) -> batch or None`: a vectorized core where one exists for these kwargs."""
    targets_fn: Callable[..., dict[str, Targets | Entities]] | None = None
    """`(**kwargs) -> role -> Targets or Entities`: where observations list places to head for (or a table of
    entities to act on), for these kwargs."""
    words: Words | None = None
    """Where the game's words are (games whose agents talk); None for the others."""

    # ---------------------------------------------------------------- options
    def resolve_kwargs(self, kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Defaults merged with `kwargs`; unknown option names raise a GameError listing the known ones."""
        kwargs = dict(kwargs or {})
        unknown = sorted(set(kwargs) - set(self.options))
        if unknown:
            raise GameError(
                f"{self.name}: unknown option(s) {', '.join(unknown)}; known options: {', '.join(self.options)}"
            )
        return {**self.options, **kwargs}

    # ---------------------------------------------------------------- envs
    def make_env(self, render_mode: str | None = None, **kwargs: Any) -> Any:
        """The real PettingZoo ParallelEnv; bad option names or values raise GameError, never a traceback."""
        full = self.resolve_kwargs(kwargs)
        try:
            return self.env_fn(render_mode=render_mode, **full)
        except (AssertionError, TypeError, ValueError) as e:
            raise GameError(f"{self.name}: bad options {full}: {e or type(e).__name__}") from e

    def info(self, **kwargs: Any) -> GameInfo:
        """Agents, roles, spaces, horizon and fps for these kwargs."""
        return _info(self, json.dumps(self.resolve_kwargs(kwargs), sort_keys=True))

    def team_reward(self, rewards: np.ndarray) -> np.ndarray:
        """Team reward of one step from per-agent rewards `(..., n_agents)` in `possible_agents` order."""
        return self.team_reward_fn(np.asarray(rewards, dtype=np.float64))

    def team_reward_of(self, rewards: dict[str, float], agents: tuple[str, ...]) -> float:
        """Team reward of one PettingZoo step (agent -> reward dict; absent agents count 0)."""
        return float(self.team_reward(np.array([rewards.get(a, 0.0) for a in agents])))

    def has_core(self, **kwargs: Any) -> bool:
        """Whether these kwargs get a vectorized core (else `batch` falls back to the generic runner)."""
        return self.batch_core is not None and self.batch_core(1, **self.resolve_kwargs(kwargs)) is not None

    def batch(self, num_envs: int, **kwargs: Any) -> Any:
        """B games stepped together: the vectorized core where one exists, else the generic vector runner."""
        from games.vector import VectorBatch

        if num_envs < 1:
            raise GameError(f"num_envs must be >= 1, got {num_envs}")
        full = self.resolve_kwargs(kwargs)
        self.info(**kwargs)  # validates option values on the real env before any batch is built
        if self.batch_core is not None:
            core = self.batch_core(num_envs, **full)
            if core is not None:
                return core
        return VectorBatch(self, num_envs, **full)


@functools.lru_cache(maxsize=64)
def _info(spec: GameSpec, kwargs_json: str) -> GameInfo:
    kwargs = json.loads(kwargs_json)
    env = spec.make_env(**kwargs)
    try:
        agents = tuple(env.possible_agents)
        roles: dict[str, list[str]] = {}
        for a in agents:
            roles.setdefault(role_of(a), []).append(a)
        obs_shapes, n_actions = {}, {}
        if int(kwargs["max_cycles"]) < 1:
            raise GameError(f"{spec.name}: max_cycles must be >= 1, got {kwargs['max_cycles']}")
        for role, members in roles.items():
            if not all(hasattr(env.action_space(a), "n") for a in members):
                space = env.action_space(members[0])
                raise GameError(f"{spec.name}: only discrete actions are supported (got {space})")
            spaces = {(env.observation_space(a).shape, env.action_space(a).n) for a in members}
            if len(spaces) != 1:
                raise GameError(f"{spec.name}: agents of role {role!r} do not share spaces")
            (obs_shape, n), = spaces
            obs_shapes[role], n_actions[role] = tuple(int(d) for d in obs_shape), int(n)
        horizon = int(kwargs["max_cycles"])
        fps = int(env.metadata.get("render_fps", 15))
    finally:
        close_env(env)
    targets = spec.targets_fn(**kwargs) if spec.targets_fn else {}
    return GameInfo(agents, {r: tuple(m) for r, m in roles.items()}, obs_shapes, n_actions, horizon, fps, targets)
