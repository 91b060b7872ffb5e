"""Partner styles: hand-written partners that play like people, to score a team with partners it never met.

A team trains with copies of itself (and, with partners, with the scripted baseline and other generations),
so it can learn conventions nobody else follows. A person who takes a seat in `league play` follows the
obvious plan, but late, with slips, or set in a first choice. These styles imitate that, for every game: each
starts from the scripted baseline of `games/scripted.py` (the obvious plan) and deviates the way people do.
The exact scripted baseline is a training partner, so no style equals it: each changes some actions.

- `slow`: reacts late. It sees the game SLOW_SECONDS late (a person's reaction time, times the game's fps,
  at least one step): it plays the obvious plan on the observation of `delay` steps ago, and until it has
  seen anything it takes the seat's idle action (what the key map does with no key held). Why: a team whose
  plan needs its partner to react at once (cross in front of it, expect it on a landmark now) fails with
  people; steering on late observations also overshoots, as people do.
- `slips`: the obvious plan, but on SLIP_RATE of the steps (per seat, drawn independently) a uniformly random
  action: a wrong key, a word said by mistake. Why: a team should not fall apart after one odd action.
- `stubborn`: commits to its first choice and never revises it, whatever the others do.
  simple_spread: goes to the landmark nearest to it at the start (even if a teammate is closer to it).
  Listeners (simple_speaker_listener, simple_reference) keep going where the first word they heard sent them.
  Speakers, whose view (the goal) never changes in an episode, state their choice once and treat it as
  settled: the goal's word for the first STUBBORN_SAY steps, then the idle word (a person who pressed the
  key once and let go; `league play`'s simple_reference seat always says word 0). pursuit: chases the first
  evader it sees until it is caught or lost from view, then the next. knights_archers_zombies: every agent
  keeps its first zombie (archers the lowest, knights the nearest) until it is gone. Why: a team that relies
  on its partner re-planning with it (swapping landmarks, switching targets, repeating words) fails here.
- `natural` (games with words): the most natural code, naming the goal landmark by its index, one step late
  (a quick person; the scripted baseline answers at once). Why: a team that trained only with itself may have
  invented its own code (word B for landmark 0); this checks that its listener understands the one people use.

Every style is `partner_style(spec, name, info, seed)`: a FRESH policy for one batch of episodes, with the
signature of the scripted baselines (`policy(obs (B, n, D) padded, info) -> int64 actions (B, n)`), proposing
an action for every seat (a caller takes the seats it wants). Styles keep state over an episode (what they
saw, what they chose), created on the first call from `obs.shape`, so a policy plays one batch from the
reset on: its first call is step 0. Deterministic given the seed (`slips` draws from
`np.random.default_rng(seed)` every step, whatever it sees, so the same seed slips on the same steps).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from games.scripted import (
    KazView,
    as_numbers,
    kaz_moves,
    kaz_pick,
    kaz_view,
    named_landmark,
    pursuit_toward,
    pursuit_window,
    steer,
)
from games.rollout import Policy, per_seat
from games.spec import GameError, GameInfo, GameSpec, padded
from games.turns import uniform_moves


SLOW_SECONDS = 0.3  # a person's reaction time: 3 steps at mpe's 10 fps, 2 in pursuit (5 fps), 5 in KAZ (15 fps)
SLIP_RATE = 0.1  # share of steps on which a `slips` seat presses a random key
STUBBORN_SAY = 3  # steps a stubborn speaker says its word before it lets go of the key
KAZ_TRACK = (35.0, 3.0)  # px (x, y) within which a zombie seen now is the one chosen last step, moved on


def style_names(spec: GameSpec) -> list[str]:
    """The partner styles of a game: slow (not in a turn-based game, which waits for its player) and slips for
    every game with a scripted plan, stubborn where the game declares it (`GameSpec.stubborn`), natural for games
    with words, then the game's own (`GameSpec.styles`); none without a scripted plan."""
    if spec.scripted is None:
        return []
    generic = ([] if spec.info().turn_based else ["slow"]) + ["slips"] + (["stubborn"] if spec.stubborn else [])
    return generic + (["natural"] if spec.words else []) + list(spec.styles)


def partner_style(spec: GameSpec, name: str, info: GameInfo, seed: int = 0) -> Policy:
    """A fresh policy of style `name` for one batch of episodes of the game (made with `info`'s options)."""
    known = style_names(spec)
    if name not in known:
        raise GameError(f"unknown partner style {name!r} for {spec.name}; styles: {', '.join(known) or 'none'}")
    plan = spec.scripted
    if name in spec.styles:
        return spec.styles[name](info, seed)
    if name == "slow":
        return Delayed(info, plan, reaction_steps(info), idle_actions(spec, info))
    if name == "natural":
        return Delayed(info, plan, 1, idle_actions(spec, info))
    if name == "slips":
        return Slipping(info, plan, SLIP_RATE, seed)
    return spec.stubborn(info)


class Style:
    """A partner policy with memory over one batch of episodes: `style(obs (B, n, D), info) -> (B, n)`.

    The first call is step 0 of every episode of the batch; `start` makes the state arrays from its
    observations. Observations of another shape are refused: their rows would not be the episodes the state
    belongs to."""

    def __init__(self, info: GameInfo) -> None:
        self.info = info
        self.shape: tuple[int, ...] | None = None
        self.step = 0

    def __call__(self, obs: np.ndarray, _: GameInfo | None = None) -> np.ndarray:
        if self.shape is None:
            self.shape = obs.shape
            self.start(obs)
        elif obs.shape != self.shape:
            raise ValueError(f"a partner style plays one batch of episodes (obs {self.shape}), got obs {obs.shape}: "
                             f"make a fresh one with partner_style() for each batch")
        actions = self.act(obs)
        self.step += 1
        return actions

    def start(self, obs: np.ndarray) -> None:
        """Makes the state from the first observations `(B, n, D)`."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """int64 actions `(B, n)` for this step."""
        raise NotImplementedError


# ---------------------------------------------------------------- every game: late, slipping


def reaction_steps(info: GameInfo) -> int:
    """SLOW_SECONDS in steps of this game (its fps), at least one."""
    return max(1, int(SLOW_SECONDS * info.fps + 0.5))


def idle_actions(spec: GameSpec, info: GameInfo) -> np.ndarray:
    """Per seat `(n,)`: the action a person's seat takes with no key held (the game's key map); Box actions:
    `(n, d)` float32, its numbers."""
    idle = [spec.key_map(info.role_of(a), **info.options).idle for a in info.agents]
    if not info.continuous:
        return np.array(idle, dtype=np.int64)
    return np.stack([padded(row, (max(info.n_actions.values()),)) for row in idle])


class Delayed(Style):
    """`plan` played on the observation of `delay` steps ago; until then the `idle` action of each seat `(n,)`."""

    def __init__(self, info: GameInfo, plan: Policy, delay: int, idle: np.ndarray) -> None:
        super().__init__(info)
        self.plan, self.delay, self.idle = plan, delay, idle
        self.seen: deque[np.ndarray] = deque(maxlen=delay + 1)  # the last delay + 1 observations, oldest first

    def act(self, obs: np.ndarray) -> np.ndarray:
        self.seen.append(np.array(obs, copy=True))
        if self.step < self.delay:  # nothing seen yet: no key held
            return np.broadcast_to(self.idle, (obs.shape[0], *self.idle.shape)).copy()
        return self.plan(self.seen[0], self.info)


class Slipping(Style):
    """`plan`, but a uniformly random action on `rate` of the steps of each seat."""

    def __init__(self, info: GameInfo, plan: Policy, rate: float, seed: int) -> None:
        super().__init__(info)
        self.plan, self.rate = plan, rate
        self.rng = np.random.default_rng(seed)

    def act(self, obs: np.ndarray) -> np.ndarray:
        slip = self.rng.random(obs.shape[:2]) < self.rate  # (B, n) drawn every step, whatever is seen
        wrong = uniform_moves(self.rng, obs, self.info)  # a legal move, in a game with masks
        # Box actions (B, n, d): every number of a slipping seat's action is random
        return np.where(per_seat(slip, wrong), wrong, self.plan(obs, self.info)).astype(wrong.dtype)


# ---------------------------------------------------------------- stubborn, game by game


class StubbornSpread(Style):
    """simple_spread: each agent steers to the landmark nearest to it at the start, whatever the others do."""

    def start(self, obs: np.ndarray) -> None:
        self.mine = np.argmin(np.linalg.norm(self.landmarks(obs), axis=-1), axis=-1)  # (B, N) fixed for good

    def act(self, obs: np.ndarray) -> np.ndarray:
        target = np.take_along_axis(self.landmarks(obs), self.mine[..., None, None], axis=2)[:, :, 0]  # (B, N, 2)
        return as_numbers(steer(target, obs[..., 0:2]), self.info)

    @staticmethod
    def landmarks(obs: np.ndarray) -> np.ndarray:
        """`(B, N, L, 2)` landmarks relative to each agent (obs: vel 2, pos 2, landmarks 2N, ...)."""
        B, n = obs.shape[:2]
        return obs[..., 4 : 4 + 2 * n].reshape(B, n, n, 2)


def said_once(word: np.ndarray, step: int, idle: int) -> np.ndarray:
    """A stubborn speaker's word: `word` for the first STUBBORN_SAY steps, then `idle` (the key let go)."""
    return word if step < STUBBORN_SAY else np.full_like(word, idle)


def keep_first(first: np.ndarray, word: np.ndarray) -> None:
    """Listeners that hear their first word now `(M, W)` keep it in `first` (zeros until one is heard)."""
    new = ~first.any(axis=-1) & word.any(axis=-1)  # (M,)
    first[new] = word[new]


class StubbornSpeakerListener(Style):
    """simple_speaker_listener: the speaker says the goal once; the listener keeps its first word's landmark."""

    IDLE_WORD = 0  # the speaker key map's idle action: no key held says word A

    def start(self, obs: np.ndarray) -> None:
        self.first = np.zeros((len(obs), 3), dtype=obs.dtype)  # (B, 3) first word heard, one-hot

    def act(self, obs: np.ndarray) -> np.ndarray:
        word = said_once(np.argmax(obs[:, 0, 0:3], axis=-1), self.step, self.IDLE_WORD)  # (B,)
        listener = obs[:, 1]  # (B, 11): vel 2, landmarks 6, word 3
        keep_first(self.first, listener[:, 8:11])
        target = named_landmark(listener[:, 2:8].reshape(-1, 3, 2), self.first)  # (B, 2)
        return as_numbers(np.stack([word, steer(target, listener[:, 0:2])], axis=1).astype(np.int64), self.info)


class StubbornReference(Style):
    """simple_reference: each agent says its partner's goal once (then word 0, as a person's seat does) and
    steers to the landmark of the first word it heard; action = move + 5 * word."""

    def start(self, obs: np.ndarray) -> None:
        self.first = np.zeros((obs.shape[0] * obs.shape[1], 10), dtype=obs.dtype)  # (B*2, 10) first word heard

    def act(self, obs: np.ndarray) -> np.ndarray:
        B, n = obs.shape[:2]
        flat = obs.reshape(B * n, -1)  # (B*2, 21): vel 2, landmarks 6, partner's goal colour 3, word 10
        word = said_once(np.argmax(flat[:, 8:11], axis=-1), self.step, 0)  # (B*2,)
        keep_first(self.first, flat[:, 11:21])
        target = named_landmark(flat[:, 2:8].reshape(-1, 3, 2), self.first)  # (B*2, 2)
        return as_numbers((steer(target, flat[:, 0:2]) + 5 * word).reshape(B, n).astype(np.int64), self.info, 5)


PURSUIT_SHIFT = np.array([[0, -1], [0, 1], [1, 0], [-1, 0], [0, 0]])  # (5, 2) move -> the pursuer's (row, col) step


class StubbornPursuit(Style):
    """pursuit: each pursuer chases one evader, the nearest when it picks, until it is caught or out of view.

    Evaders are not labelled, so the chased one is followed by where it should be: its cell last step less
    the pursuer's own move (the window moves with the pursuer); the evader nearest to that, within 2 cells
    (it moved one, the pursuer's move may have been blocked), is the same one. Otherwise it picks anew."""

    def start(self, obs: np.ndarray) -> None:
        B, n = obs.shape[:2]
        self.chasing = np.zeros((B, n), dtype=bool)
        self.expect = np.zeros((B, n, 2), dtype=np.int64)  # (row, col) in the window where the chased one should be

    def act(self, obs: np.ndarray) -> np.ndarray:
        evaders = pursuit_window(obs, self.info)[..., 2] > 0  # (B, N, rows, cols)
        B, n, rows, cols = evaders.shape
        cell = np.stack(np.divmod(np.arange(rows * cols), cols), axis=-1)  # (cells, 2) row, col of each cell
        here = evaders.reshape(B, n, -1)  # (B, N, cells)
        from_me = np.abs(cell - [rows // 2, cols // 2]).sum(axis=-1)  # (cells,)
        pick = np.argmin(np.where(here, from_me, np.inf), axis=-1)  # (B, N) a fresh choice: the nearest
        off = np.abs(cell - self.expect[:, :, None, :]).sum(axis=-1)  # (B, N, cells)
        off = np.where(here, off, np.inf)
        kept = self.chasing & (off.min(axis=-1) <= 2)
        pick = np.where(kept, np.argmin(off, axis=-1), pick)
        self.chasing = here.any(axis=-1)
        chase = np.zeros_like(here)
        np.put_along_axis(chase, pick[..., None], True, axis=-1)
        moves = pursuit_toward(obs, self.info, (chase & self.chasing[..., None]).reshape(evaders.shape))
        self.expect = cell[pick] - PURSUIT_SHIFT[moves]
        return moves


class StubbornKAZ(Style):
    """knights_archers_zombies: each agent keeps its first zombie (archers the lowest, knights the nearest)
    until it is gone, then picks the next the same way.

    Zombies are not labelled either: the chosen one is the zombie seen now where it should be, 5 px lower than
    last step (they walk down 5 px a step) and at most one sideways step (30 px) off (KAZ_TRACK)."""

    def start(self, obs: np.ndarray) -> None:
        self.last = np.full((*obs.shape[:2], 2), np.nan)  # (B, n, 2) screen corner of each agent's zombie; nan: none

    def act(self, obs: np.ndarray) -> np.ndarray:
        view: KazView = kaz_view(obs, self.info)
        off = np.abs(view.corner - (self.last + [0.0, 5.0])[:, :, None, :])  # (B, n, E, 2); nan: no zombie yet
        close = view.zombie & (off[..., 0] <= KAZ_TRACK[0]) & (off[..., 1] <= KAZ_TRACK[1])  # (B, n, E)
        same = np.argmin(np.where(close, off.sum(axis=-1), np.inf), axis=-1)  # (B, n)
        pick = np.where(close.any(axis=-1), same, kaz_pick(view))
        corner = np.take_along_axis(view.corner, pick[..., None, None], axis=2)[:, :, 0]  # (B, n, 2)
        self.last = np.where(view.zombie.any(axis=-1)[..., None], corner, np.nan)
        return kaz_moves(view, pick)
