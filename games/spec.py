"""The one description every game gives: how to make it, who plays, how the team scores, how a human plays.

A `GameSpec` is a thin layer over the real PettingZoo `ParallelEnv`; it never changes the game. Training,
storage and the viewer only ever talk to a game through this description, so adding a game is one module.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from games.frames import DEFAULT_FRAMES, FrameObservations, Frames, image_shape


class GameError(ValueError):
    """A game was asked for with a name or options it does not have; the message says which ones it has."""


@dataclass(frozen=True)
class KeyMap:
    """How a person drives one seat: pygame key names (`pygame.key.name`) -> discrete action, or, for a seat of
    Box actions, -> numbers added to the action while the key is held.

    Held keys keep acting every frame. Discrete: when several mapped keys are held, the one listed first wins, so
    the map is also a priority order. Box: every held key's numbers are added to `idle` (left and up at once
    push diagonally), then clipped to the box.
    """

    keys: dict[str, int | tuple[float, ...]]
    """Key name -> action index, in priority order; Box: key name -> the numbers it adds."""
    idle: int | tuple[float, ...]
    """Action taken on a frame where no mapped key is held (the game's no-op, or its nearest thing); Box: the
    numbers of that action."""
    help: str
    """One line for the viewer's help overlay and docs/games.md."""


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
class Moves:
    """Where what each move of a role would do can be read off its observation by a reader of the game's own
    (Hanabi's: `league.moves.HanabiMoves`), so a policy scores every move from its features as well as from the
    whole observation (`league.policy.ScoreMoves`)."""

    reader: str
    """The reader's name in `league.moves.READERS`."""
    layout: dict[str, int]
    """The numbers the reader finds the observation's sections by (Hanabi's `Layout` fields)."""


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

    def word_of(self, role: str, actions: Any, numbers: bool = False) -> Any:
        """The word in a role's actions (an int or an array of them; `numbers`: Box actions `(..., d)`, the word
        the strongest of its numbers, as a listener reading the heard numbers would take it); None for roles
        that do not speak."""
        if role not in self.goal:
            return None
        if numbers:
            return np.argmax(np.asarray(actions)[..., self.moves: self.moves + self.words], axis=-1)
        return actions // self.moves if self.moves else actions

    def saying(self, words: np.ndarray, numbers: int = 0) -> np.ndarray:
        """The actions of a constant speaker that says `words` and does not move (move 0 is no-op); `numbers`
        above 0: Box actions `(..., numbers)`, the word's number 1 (and the no-op's, with moves), the rest 0."""
        said = words * self.moves if self.moves else words
        return one_hot_numbers(said, numbers, self.moves) if numbers else said


def padded(action: int | np.ndarray, shape: tuple[int, ...]) -> int | np.ndarray:
    """A seat's action in a row of the team's: as it is, or Box numbers `(k,)` zero-padded to the row's `(d,)`
    (a role with fewer numbers than the widest, simple_speaker_listener's speaker: 3 of 5)."""
    if not shape:
        return action
    out = np.zeros(shape, dtype=np.float32)
    out[: len(action)] = action
    return out


def one_hot_numbers(actions: np.ndarray, width: int, moves: int = 0) -> np.ndarray:
    """Discrete MPE actions `(...)` as the one-hot Box numbers `(..., width)` float32 that act the same: a move's
    (no-op, left, right, down, up) or a speaker's word, or, `moves` above 0 (action = move + moves * word), the
    move's `moves` numbers then the word's; numbers past a role's own stay 0 (its seat's padding)."""
    actions = np.asarray(actions)
    numbers = np.zeros((*actions.shape, width), dtype=np.float32)
    if moves:
        np.put_along_axis(numbers, (actions % moves)[..., None], 1.0, axis=-1)
        actions = moves + actions // moves  # where the word's numbers start, plus the word
    np.put_along_axis(numbers, actions[..., None], 1.0, axis=-1)
    return numbers


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
    """Role -> size of its Discrete action space; for a Box role, the number of numbers in an action."""
    horizon: int
    """Most environment steps an episode can last (`max_cycles`, or found by play: `GameSpec.horizon`)."""
    fps: int
    """The env's `render_fps`: how fast a person sees and plays it."""
    targets: dict[str, Targets | Entities | Moves] = field(default_factory=dict)
    """Role -> where its observation lists places to head for (or entities to act on, or moves to score); empty
    for games (or options) without them."""
    action_nvec: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Role -> the part sizes of its MultiDiscrete action space (played as one joint action); absent: Discrete."""
    action_boxes: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(default_factory=dict)
    """Role -> (low, high) of its Box action space, one bound per number (finite: `action_box`); absent: the
    role's actions are discrete. A game's roles are all discrete or all Box (`_info` refuses a mix)."""
    masks: dict[str, int] = field(default_factory=dict)
    """Role -> where its legal-move mask starts in the flat observation (`n_actions` 0/1 entries, 1 = legal; see
    `games.turns`); absent: every action of the role is always legal."""
    turn_based: bool = False
    """One agent moves per step (PettingZoo's AEC API); `alive` then marks the agent to move."""
    options: dict[str, Any] = field(default_factory=dict)
    """Every option the game was made with (defaults filled in): what a plan needs to read an observation whose
    layout the options set (Hanabi's)."""
    images: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """Role -> `(channels, height, width)` of its prepared picture observation (`games.frames`), read by a CNN;
    absent: the role's observation is a vector."""
    frames: dict[str, Any] = field(default_factory=dict)
    """How the pictures were prepared (`Frames.as_dict()`); empty for a game without pictures. Checkpoints
    record it."""

    @property
    def continuous(self) -> bool:
        """Actions are vectors of numbers (Box spaces): `(B, n, max(n_actions))` float32 arrays, not `(B, n)`."""
        return bool(self.action_boxes)

    def box_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """`(n, d)` float32 low and high of every seat's action, `d = max(n_actions)` (0 past a role's own numbers):
        what a batch clips actions to before the env gets them."""
        return seat_bounds(self.agents, self.action_boxes)

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


def seat_bounds(agents: Sequence[str], boxes: Mapping[str, Sequence[Sequence[float]]]) -> tuple[np.ndarray, np.ndarray]:
    """`(n, d)` float32 low and high of each seat's Box action from its role's (low, high) in `boxes`, `d` the
    most numbers a role has; 0 past a role's own numbers (an empty range: nothing to draw there)."""
    d = max(len(low) for low, _ in boxes.values())
    low, high = np.zeros((len(agents), d), np.float32), np.zeros((len(agents), d), np.float32)
    for i, agent in enumerate(agents):
        box_low, box_high = boxes[role_of(agent)]
        low[i, : len(box_low)], high[i, : len(box_high)] = box_low, box_high
    return low, high


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


MAX_ACTIONS = 255
"""Most actions a role may have: replays store one byte per action, 255 marks an agent that is gone."""
MAX_BOX_NUMBERS = 64
"""Most numbers a Box action may have (a continuous seat's head and its replay rows grow with it)."""
MAX_BOX_BOUND = 1e6
"""Largest bound of a Box action: a policy's spread is set by the box's size, and infinite bounds give it none."""
MAX_HORIZON = 100_000
"""Longest episode a game may have: a horizon found by play that runs past it is refused."""
OPTION_INT = (0, 1000)
"""Bounds of an integer option (other than max_cycles: 1..MAX_HORIZON) where the game declares none."""
OPTION_FLOAT = (-1_000_000, 1_000_000)
"""Bounds of a float option where the game declares none."""
OPTION_ANY_INT = (0, 100_000)
"""Bounds of an integer option of a game whose options are not listed (`GameSpec.options` None)."""
MAX_OPTION_TEXT = 200
"""Longest text option value (the one limit of a game option's text: config files leave it to the game)."""


@dataclass(frozen=True, eq=False)
class GameSpec:
    """One cooperative game: a name, the real PettingZoo env behind it and everything around it.

    Only `name` and `env_fn` are needed: what the env gives (agents, spaces, rewards, when episodes end, its
    `rgb_array` frames) is enough to train, rate, watch and play it. Everything else is optional knowledge a
    game's author adds in this one place (see docs/own-game.md)."""

    name: str
    """Registry name or entry point (`package.module:callable`), used on the command line and stored."""
    env_fn: Callable[..., Any]
    """`(**options) -> ParallelEnv`: the reference implementation (PettingZoo's `parallel_env`, or yours)."""
    summary: str = ""
    """One line shown by `league games`."""
    options: dict[str, Any] | None = None
    """Every keyword option the env takes -> the value used when not given (PettingZoo's default unless the
    game module says why not). None: any option `env_fn` accepts, with its own defaults."""
    key_maps: dict[str, KeyMap] = field(default_factory=dict)
    """Role -> key map for human play; roles without one get `default_key_map` where it applies."""
    team_reward_fn: Callable[[np.ndarray], np.ndarray] = mean_team_reward
    """Per-agent rewards `(..., n_agents)` of one step -> team reward `(...)`; applied once, after the step."""
    batch_core: Callable[..., Any] | None = None
    """`(num_envs, **kwargs) -> batch or None`: a vectorized core where one exists for these kwargs (prove it
    equal to the env with `games.parity.assert_core_matches_env`)."""
    targets_fn: Callable[..., dict[str, Targets | Entities | Moves]] | None = None
    """`(**kwargs) -> role -> Targets, Entities or Moves`: where observations list places to head for (a table of
    entities to act on, moves a reader describes), for these kwargs; the structured networks use them."""
    words: Words | None = None
    """Where the game's words are (games whose agents talk); None for the others."""
    scripted: Callable[[np.ndarray, GameInfo], np.ndarray] | None = None
    """The obvious plan as a policy (`games.rollout.Policy`): the 1.0 of normalized scores, a baseline player
    and training partner, and the base of the partner styles. None: scores say there is no baseline."""
    stubborn: Callable[[GameInfo], Any] | None = None
    """`info -> a fresh stubborn partner style` (`games.styles.Style`): the plan that never revises its first
    choice. None: the game has no `stubborn` style."""
    styles: dict[str, Callable[[GameInfo, int], Any]] = field(default_factory=dict)
    """Partner styles of the game's own, beside the generic ones of `games.styles`: name -> `(info, seed) -> a
    fresh policy for one batch of episodes` (Hanabi's people-like habits: `games.hanabi_styles`)."""
    preset: dict[str, Any] = field(default_factory=dict)
    """GRPO settings this game trains best with (laid under the user's own settings)."""
    agent_positions: Callable[[Any], dict[str, tuple[float, float]]] | None = None
    """`env -> agent -> (x, y)` pixels of its last `rgb_array` frame, so the viewer can ring a seat."""
    horizon: int | Callable[..., int] | None = None
    """Most steps an episode lasts, or `(**full_kwargs) -> it` where the options set it; None: the `max_cycles`
    option, else found by playing (see `GameInfo`)."""
    symmetries_fn: Callable[..., list[Any]] | None = None
    """`(info, **kwargs) -> [games.symmetry.Symmetry]`: the relabellings under which the game stays the same game
    (identity first), for Other-Play training; its batched core must have `relabel(sigma)` so
    `games.symmetry.prove_symmetry` can prove each one. None: the game declares none."""
    option_limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Option -> (lowest, highest) value the game plays with, where narrower than the generic bounds (OPTION_INT,
    OPTION_FLOAT): past them the env hangs, crawls or is no longer a cooperative game."""
    options_check: Callable[..., str | None] | None = None
    """`(**full_kwargs) -> None, or why the env cannot play these options together` (a grid too small to place
    its agents on, where PettingZoo would search for a free cell forever)."""
    frames: Frames | None = None
    """How the game's image observations (uint8 pictures, `games.frames.image_shape`) are prepared for a
    policy: downscaled, grey, stacked (`games.frames.Frames`). None: `DEFAULT_FRAMES` (84x84 grey, 4 frames)
    where the observations are pictures; games without pictures ignore it."""

    # ---------------------------------------------------------------- options
    def resolve_kwargs(self, kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Defaults merged with `kwargs`, each value checked (`_check_option`) and the whole by `options_check`;
        unknown option names raise a GameError listing the known ones."""
        kwargs = dict(kwargs or {})
        unknown = sorted(set(kwargs) - set(self.options)) if self.options is not None else []
        if unknown:
            raise GameError(
                f"{self.name}: unknown option(s) {', '.join(unknown)}; known options: {', '.join(self.options)}"
            )
        for key, value in kwargs.items():
            self._check_option(key, value)
        full = {**(self.options or {}), **kwargs}
        why = self.options_check(**full) if self.options_check else None
        if why:
            raise GameError(f"{self.name}: options {kwargs} cannot be played: {why}")
        return full

    def _check_option(self, key: str, value: Any) -> None:
        """One option's value against its default's type and its bounds: every caller (train, `league games`,
        benchmarks, a league's stored options) goes through here before an env is made."""
        if self.options is None and not isinstance(value, (bool, int, float, str, type(None))):
            raise GameError(f"{self.name}: option {key} must be true or false, a number or text, got {value!r:.80}")
        default = None if self.options is None else self.options[key]
        kind = type(value) if self.options is None else type(default)
        if value is None and default is None:  # an optional count left unset (num_landmark_neighbors)
            return
        if kind is bool:
            if not isinstance(value, bool):
                raise GameError(f"{self.name}: option {key} must be true or false, got {value!r:.80}")
            return
        if kind is str:
            if not isinstance(value, str) or len(value) > MAX_OPTION_TEXT or not value.isprintable():
                raise GameError(f"{self.name}: option {key} must be printable text of at most {MAX_OPTION_TEXT} "
                                f"characters, got {value!r:.80}")
            return
        if kind not in (int, float, type(None)):  # a custom game's option of another type: that type
            if not isinstance(value, kind):
                raise GameError(f"{self.name}: option {key} must be a {kind.__name__}, got {value!r:.80}")
            return
        integer = kind is int or (self.options is not None and default is None)  # None: an optional count
        if key == "max_cycles":
            low, high = self.option_limits.get(key, (1, MAX_HORIZON))
        elif self.options is None:
            low, high = OPTION_ANY_INT if integer else OPTION_FLOAT
        else:
            low, high = self.option_limits.get(key, OPTION_INT if integer else OPTION_FLOAT)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = number and (isinstance(value, int) if integer else math.isfinite(value))
        if not ok or not low <= value <= high:
            raise GameError(f"{self.name}: option {key} must be {'an integer' if integer else 'a finite number'} "
                            f"from {low} to {high}, got {value!r:.80}")

    # ---------------------------------------------------------------- envs
    def make_env(self, render_mode: str | None = None, **kwargs: Any) -> Any:
        """The real PettingZoo env, as a ParallelEnv: a turn-based (AEC) env, or one with legal-move masks, comes
        wrapped in `games.turns.Turns` (a step is a turn, observations are flat with the mask appended, cut off
        at the horizon). Bad option names or values, an env_fn that raises or returns something else raise
        GameError, never a traceback."""
        from games.turns import Turns

        env = self._new_env(render_mode, **kwargs)
        if isinstance(env, Turns):
            env.horizon = self.info(**kwargs).horizon
        return env

    def _new_env(self, render_mode: str | None = None, **kwargs: Any) -> Any:
        from games.turns import Turns, is_aec, masked_env, needs_turns

        full = self.resolve_kwargs(kwargs)
        if render_mode is not None or self.options is not None:
            full = {"render_mode": render_mode, **full}
        try:
            env = self.env_fn(**full)
        except (AssertionError, TypeError, ValueError) as e:
            raise GameError(f"{self.name}: bad options {kwargs}: {one_line(e)}") from e
        except Exception as e:  # a user's env_fn may raise anything: one line, never a traceback
            raise GameError(f"{self.name}: making the env raised {type(e).__name__}: {one_line(e)}") from e
        if not is_pettingzoo_env(env):
            raise GameError(f"{self.name}: env_fn must return a PettingZoo ParallelEnv or AECEnv, got "
                            f"{type(env).__name__}")
        if not needs_turns(env):
            return self._with_frames(env)
        try:
            masked = masked_env(env)
            if not masked and is_aec(env):  # AEC infos are filled by a reset: look there
                guarded(self, "reset", env.reset, seed=0)
                masked = masked_env(env)
        except GameError as e:
            raise GameError(e if str(e).startswith(self.name) else f"{self.name}: {e}") from None
        return Turns(env, self.name, masked)

    def _with_frames(self, env: Any) -> Any:
        """The env with its picture observations prepared (`games.frames.FrameObservations`); as it is when it
        has none."""
        images = {a: image_shape(env.observation_space(a)) for a in env.possible_agents}
        images = {a: shape for a, shape in images.items() if shape is not None}
        if not images:
            return env
        frames = self.frames or DEFAULT_FRAMES
        why = frames.problem()
        if why:
            raise GameError(f"{self.name}: its declared {why}")
        why = next(filter(None, (frames.too_big(shape) for shape in images.values())), None)
        if why:
            raise GameError(f"{self.name}: {why}")
        return FrameObservations(env, frames, images)

    def info(self, **kwargs: Any) -> GameInfo:
        """Agents, roles, spaces, horizon and fps for these kwargs."""
        return _info(self, json.dumps(self.resolve_kwargs(kwargs), sort_keys=True))

    def team_reward(self, rewards: np.ndarray) -> np.ndarray:
        """Team reward of one step from per-agent rewards `(..., n_agents)` in `possible_agents` order."""
        return self.team_reward_fn(np.asarray(rewards, dtype=np.float64))

    def team_reward_of(self, rewards: dict[str, float], agents: tuple[str, ...]) -> float:
        """Team reward of one PettingZoo step (agent -> reward dict; absent agents count 0)."""
        return float(self.team_reward(np.array([rewards.get(a, 0.0) for a in agents])))

    def symmetries(self, **kwargs: Any) -> list[Any]:
        """The game's declared symmetries for these kwargs (identity first); empty when it declares none, these
        kwargs have no batched core to play them on, or its actions are Box numbers."""
        if self.symmetries_fn is None or not self.has_core(**kwargs):
            return []
        info = self.info(**kwargs)
        if info.continuous:  # a relabelling maps action indices; Other-Play on Box actions is not built yet
            return []
        try:
            return [s.validate(info) for s in self.symmetries_fn(info, **self.resolve_kwargs(kwargs))]
        except Exception as e:  # a game's own symmetries_fn may return or raise anything: one line
            raise GameError(f"{self.name}: its declared symmetries are unusable: {type(e).__name__}: "
                            f"{one_line(e)}") from e

    def has_core(self, **kwargs: Any) -> bool:
        """Whether these kwargs get a vectorized core (else `batch` falls back to the generic runner)."""
        return self.batch_core is not None and self.batch_core(1, **self.resolve_kwargs(kwargs)) is not None

    def batch(self, num_envs: int, **kwargs: Any) -> Any:
        """B games stepped together: the vectorized core where one exists, else the generic vector runner.

        A core may hand back the same observation buffer from every `reset` and `step` (Hanabi's does, to skip a
        fresh page per turn): a caller that keeps observations past the next step copies them.
        """
        from games.vector import VectorBatch

        if num_envs < 1:
            raise GameError(f"num_envs must be >= 1, got {num_envs}")
        full = self.resolve_kwargs(kwargs)
        info = self.info(**kwargs)  # validates option values on the real env before any batch is built
        if self.batch_core is not None:
            core = self.batch_core(num_envs, **full)
            if core is not None:
                if tuple(core.agents) != info.agents or core.obs_dim != info.max_obs_dim:
                    raise GameError(f"{self.name}: its batched core has agents {tuple(core.agents)} and observations "
                                    f"of width {core.obs_dim}, its env {info.agents} and {info.max_obs_dim}")
                return core
        return VectorBatch(self, num_envs, **full)

    def check(self, **kwargs: Any) -> GameInfo:
        """Everything a league needs of the game with these options, tried before anything is stored: the env
        is made, read and played (`info`), and the batch a trainer uses is built; one GameError line if not."""
        info = self.info(**kwargs)
        batch = self.batch(1, **kwargs)
        if hasattr(batch, "close"):
            batch.close()
        return info

    def key_map(self, role: str, **kwargs: Any) -> KeyMap:
        """How a person plays `role` with these options: the game's key map, else the default for a Discrete(5)
        move layout (for Box actions: the default for mpe2's Box(0, 1, (5,)) moves, `DEFAULT_BOX_KEY_MAP`); a
        GameError in one line for a role that has neither."""
        info = self.info(**kwargs)
        if info.continuous:
            if (role + ":box") in self.key_maps:
                return self.key_maps[role + ":box"]
            if info.action_boxes.get(role) == ((0.0,) * 5, (1.0,) * 5):
                return DEFAULT_BOX_KEY_MAP
            raise GameError(f"{self.name}: role {role!r} acts with {info.n_actions.get(role)} numbers and has no key "
                            f"map; add key_maps[{role + ':box'!r}] to its GameSpec to play it")
        if role in self.key_maps:
            return self.key_maps[role]
        if info.n_actions.get(role) == 5 and not info.action_nvec.get(role):
            return DEFAULT_KEY_MAP
        raise GameError(f"{self.name}: role {role!r} has {info.n_actions.get(role)} actions and no key map; "
                        f"add key_maps to its GameSpec to play it")


DEFAULT_KEY_MAP = KeyMap(keys={"left": 1, "right": 2, "down": 3, "up": 4}, idle=0,
                         help="arrow keys move; no key = no-op (the default map for Discrete(5) moves)")
"""A role with Discrete(5) actions and no key map of its own is read as PettingZoo MPE's move layout: 0 no-op,
1 left, 2 right, 3 down, 4 up (-x, +x, -y, +y)."""
DEFAULT_BOX_KEY_MAP = KeyMap(keys={"left": (0, 1, 0, 0, 0), "right": (0, 0, 1, 0, 0), "down": (0, 0, 0, 1, 0),
                                   "up": (0, 0, 0, 0, 1)}, idle=(0, 0, 0, 0, 0),
                             help="held arrow keys push at full strength, two at once diagonally; no key = drift")
"""mpe2's continuous moves, Box(0, 1, (5,)) = (no-op, left, right, down, up), pushed by right - left and up - down:
each held arrow key sets its own number to 1."""


def one_line(error: BaseException) -> str:
    """An exception's message on one line (the first non-empty one), or its type's name."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def guarded(spec: GameSpec, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """`call(*args, **kwargs)` of a game's env; anything it raises becomes one GameError line naming the game."""
    try:
        return call(*args, **kwargs)
    except GameError:
        raise
    except Exception as e:
        raise GameError(f"{spec.name}: the env raised {type(e).__name__} in {what}: {one_line(e)}") from e


def is_pettingzoo_env(env: Any) -> bool:
    """Duck-typed PettingZoo ParallelEnv or AECEnv: what the league calls on one."""
    return all(hasattr(env, a) for a in ("possible_agents", "reset", "step", "observation_space", "action_space"))


def flat_obs_shape(space: Any) -> tuple[int, ...] | None:
    """The shape of a Box observation space (None for any other kind: not supported)."""
    return tuple(int(d) for d in space.shape) if type(space).__name__ == "Box" else None


def action_layout(space: Any) -> tuple[int, tuple[int, ...]] | None:
    """(number of actions, the sizes of a MultiDiscrete's parts or ()) for Discrete and MultiDiscrete spaces; None
    for any other kind. A MultiDiscrete [a, b] is played as one of a * b joint actions."""
    kind = type(space).__name__
    if kind == "Discrete" and int(getattr(space, "start", 0)) == 0:
        return int(space.n), ()
    if kind == "MultiDiscrete" and np.asarray(space.nvec).ndim == 1 and not np.any(getattr(space, "start", 0)):
        nvec = tuple(int(v) for v in np.asarray(space.nvec))
        return int(np.prod(nvec)), nvec
    return None


def action_box(space: Any) -> tuple[tuple[float, ...], tuple[float, ...]] | str | None:
    """(low, high) of a flat Box action space with finite bounds, low < high; None for a space that is not a Box;
    why not, for a Box the league cannot play (infinite or huge bounds, an empty range, more than MAX_BOX_NUMBERS
    numbers, a shape of more than one axis)."""
    if type(space).__name__ != "Box":
        return None
    shape = tuple(getattr(space, "shape", ()) or ())
    if len(shape) != 1 or not 1 <= shape[0] <= MAX_BOX_NUMBERS:
        return f"only a flat Box of 1 to {MAX_BOX_NUMBERS} numbers is supported"
    low, high = (np.asarray(b, dtype=np.float64).reshape(-1) for b in (space.low, space.high))
    if not (np.isfinite(low).all() and np.isfinite(high).all()) or np.abs(np.r_[low, high]).max() > MAX_BOX_BOUND:
        return f"its bounds must be finite numbers within +-{MAX_BOX_BOUND:g} (a policy draws within them)"
    if not (low < high).all():
        return "every number needs low < high"
    return tuple(float(v) for v in low), tuple(float(v) for v in high)


def find_horizon(spec: GameSpec, env: Any, kwargs: dict[str, Any]) -> int:
    """The most steps an episode lasts: the game's declaration, its `max_cycles` option (times the agents, in a
    turn-based game: a cycle is every agent's turn), the `max_cycles` the env holds (`env_max_cycles`), else the
    length of an episode of random play that ended by truncation (up to 3 tries). A turn-based game that ends by
    itself each time (Hanabi) gets 10 times its longest random game, and `games.turns.Turns` cuts its episodes
    off there."""
    turn_based = getattr(env, "turn_based", False)
    if spec.horizon is not None:
        return int(spec.horizon(**kwargs) if callable(spec.horizon) else spec.horizon)
    if "max_cycles" in kwargs:
        return int(kwargs["max_cycles"]) * (len(env.possible_agents) if turn_based else 1)
    declared = env_max_cycles(env)
    if declared is not None and 1 <= declared <= MAX_HORIZON:
        return declared * (len(env.possible_agents) if turn_based else 1)
    rng = np.random.default_rng(0)
    longest = 0
    for attempt in range(3):
        env.reset(seed=attempt)
        for t in range(1, MAX_HORIZON + 1):
            actions = {a: random_move(env, a, rng) for a in getattr(env, "acting", env.agents)}
            _, _, terminations, truncations, _ = env.step(actions)
            if any(truncations.values()):
                return t
            if not env.agents or all(terminations.values()):
                longest = max(longest, t)
                break
        else:
            raise GameError(f"{spec.name}: an episode of random play did not end within {MAX_HORIZON} steps; "
                            f"give the GameSpec a horizon")
    if turn_based:
        return min(MAX_HORIZON, 10 * longest)
    raise GameError(f"{spec.name}: random play never reached the env's truncation in 3 episodes; give the "
                    f"GameSpec a horizon (the most steps an episode lasts)")


def env_max_cycles(env: Any, depth: int = 0, seen: set[int] | None = None) -> int | None:
    """The `max_cycles` an env holds itself, where its options do not name it (cooperative_pong keeps its 900 on
    the AEC env inside the parallel wrapper): looked for on the env and on what it wraps (`aec_env`, `env`,
    `unwrapped`), 5 levels down at most; None when nothing there has one."""
    seen = set() if seen is None else seen
    if env is None or id(env) in seen or depth > 4:
        return None
    seen.add(id(env))
    value = vars(env).get("max_cycles") if hasattr(env, "__dict__") else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    for name in ("aec_env", "env", "unwrapped"):
        try:
            inner = getattr(env, name, None)
        except Exception:  # an env's own property may raise anything
            inner = None
        found = env_max_cycles(inner, depth + 1, seen)
        if found is not None:
            return found
    return None


def random_move(env: Any, agent: str, rng: np.random.Generator) -> Any:
    """A uniform random move of `agent` in `env`: among its legal moves in a `games.turns.Turns` env, else any
    action of its space (`random_action`)."""
    if hasattr(env, "legal_moves"):
        return int(rng.choice(np.flatnonzero(env.legal_moves(agent))))
    return random_action(env.action_space(agent), rng)


def random_action(space: Any, rng: np.random.Generator) -> Any:
    """A uniform random action of a Discrete, MultiDiscrete or bounded Box space (what `action_layout` and
    `action_box` accept)."""
    if type(space).__name__ == "Discrete":
        return int(rng.integers(space.n))
    if type(space).__name__ == "Box":
        return rng.uniform(space.low, space.high).astype(np.float32)
    return rng.integers(0, np.asarray(space.nvec))


@functools.lru_cache(maxsize=64)
def _info(spec: GameSpec, kwargs_json: str) -> GameInfo:
    kwargs = json.loads(kwargs_json)
    env = spec._new_env(**kwargs)
    try:
        agents = tuple(env.possible_agents)
        if not agents:
            raise GameError(f"{spec.name}: the env has no agents")
        roles: dict[str, list[str]] = {}
        for a in agents:
            roles.setdefault(role_of(a), []).append(a)
        obs_shapes, n_actions, nvecs, boxes = {}, {}, {}, {}
        for role, members in roles.items():
            layouts = set()
            for a in members:
                shape, layout = flat_obs_shape(env.observation_space(a)), action_layout(env.action_space(a))
                box = action_box(env.action_space(a))
                if shape is None:
                    raise GameError(f"{spec.name}: {a}'s observation space {env.observation_space(a)} is not "
                                    f"supported (only Box observations, which are flattened)")
                if isinstance(box, str):
                    raise GameError(f"{spec.name}: {a}'s action space {env.action_space(a)} is not supported: {box}")
                if box is not None:
                    layout = (len(box[0]), ())  # numbers, no parts
                if layout is None:
                    raise GameError(f"{spec.name}: {a}'s action space {env.action_space(a)} is not supported "
                                    f"(only Discrete, MultiDiscrete and bounded Box actions)")
                layouts.add((shape, layout, box))
            if len(layouts) != 1:
                raise GameError(f"{spec.name}: agents {', '.join(members)} share the name prefix {role!r} but not "
                                f"their spaces; agents of one role (name prefix) must share spaces")
            (obs_shape, (n, nvec), box), = layouts
            if not 1 <= n <= MAX_ACTIONS:
                raise GameError(f"{spec.name}: role {role!r} has {n} actions; at most {MAX_ACTIONS} are supported")
            obs_shapes[role], n_actions[role] = obs_shape, n
            if box is not None:
                boxes[role] = box
            if nvec:
                nvecs[role] = nvec
        if boxes and len(boxes) != len(roles):
            raise GameError(f"{spec.name}: roles {', '.join(sorted(boxes))} act with numbers (Box) and "
                            f"{', '.join(sorted(set(roles) - set(boxes)))} with choices; a game whose roles mix the "
                            f"two is not supported")
        masks = {role: obs_shapes[role][0] - n_actions[role] for role in roles} if getattr(env, "masked", False) \
            else {}
        fps = int(env.metadata.get("render_fps", 15)) if isinstance(getattr(env, "metadata", None), dict) else 15
        horizon = guarded(spec, "reset or step", find_horizon, spec, env, kwargs)
        prepared = env.prepared if isinstance(env, FrameObservations) else {}
        images = {role: obs_shapes[role] for role, members in roles.items() if members[0] in prepared}
        frames = env.frames.as_dict() if images else {}
    finally:
        close_env(env)
    targets = spec.targets_fn(**kwargs) if spec.targets_fn else {}
    return GameInfo(agents, {r: tuple(m) for r, m in roles.items()}, obs_shapes, n_actions, horizon, fps, targets,
                    nvecs, boxes, masks, getattr(env, "turn_based", False), kwargs, images, frames)
