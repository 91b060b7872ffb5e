"""`KAZBatch`: PettingZoo's knights_archers_zombies v11 (vector observations) for B games at once, in numpy.

A copy of `pettingzoo/butterfly/knights_archers_zombies/` as the parallel env plays it, step for step and bit
for bit (`tests/test_kaz_core.py` compares every observation, reward, alive mask and done against the real
envs). What has to be copied exactly, and why it is not obvious:

- Positions are pygame Rects: integers, with `round` (half to even) for moves, `int` (toward zero) for arrows
  and the mace, and centres `x + w // 2`. A player's rect is its *rotated* image's: 32 px wide facing a right
  angle, up to 45 px in between, re-centred on every turn; it is what zombies touch and what the observation
  reports (`rect.x`, the top left corner). `ROTATED_SIZE` takes the sizes from pygame itself.
- Headings are pygame `Vector2`s turned 10 degrees at a time; the floats drift along each agent's own path of
  turns and decide `round(25 * sin)` at the .5 ties, so they are turned with pygame's own sin/cos values
  (`_turn`), in the same float64 operations.
- Zombies draw from the env's `np_random` (PCG64 seeded by `gymnasium.utils.seeding.np_random(seed)`) with
  `integers(0, 10)` to wobble and `integers(69, 1151)` to spawn, in zombie order then the spawn. Every game's
  generator is emulated in numpy (`_Pcg64`: the 128-bit LCG, XSL-RR output, numpy's buffered 32-bit draws and
  Lemire's bounded integers with its rejection), so the same seed gives the same zombies.
- One cycle (the parallel step is one AEC cycle): agents act in order (an archer's arrow counts toward
  max_arrows for the archers after it); then weapons move, leave the screen, and kill the zombies they touch
  (the first weapon in order, arrows of archer_0, archer_1, .. then swords, gets the zombie); zombies touch
  players, walk, and one spawns every spawn_delay cycles with room. The spawn timer belongs to the env, not
  the episode: `reset` does not restart it (PettingZoo's `Interval` is made in `__init__`), so here it is
  kept per game slot across resets too, which is what the generic runner's reused envs do.
- Rewards arrive as the AEC cycle hands them out: an agent's kills are counted into its `score`, reset when
  it next acts, and paid when the agent before it in the cycle acts. So the first living agent is paid in the
  step of its kills and the others one step later; the first agent of the next cycle (or, when nobody is
  left, the last one of this cycle) is paid at the end of the step. Kills paid later are lost if the agent
  dies or the episode ends first; arrows of a dead archer fly on and kill unpaid.
- A dying agent still gets its observation and any payment in the step it dies (it leaves `env.agents` only
  afterwards, as `VectorBatch` shows); from the next step on it is gone (zeros). A knight cannot act while
  its mace swings (7 cycles, the mace lives 6), an archer may shoot again on its 4th attack try after a shot.

Options: all of PettingZoo's, with obs_method "vector" or "vector-masked" (type masks); "image" and the
variable-length "vector-sequence" are left to the generic runner (`make_batch` returns None).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pygame
from gymnasium.utils import seeding
from pettingzoo.butterfly.knights_archers_zombies.src import constants as C

# Image sizes of PettingZoo's sprites (archer.png and knight.png 32x32, zombie.png 29x31, arrow.png 46x46,
# mace.png 32x32). Arrows keep their unrotated 46x46 rect; players take their rotated image's.
PLAYER = 32
ZOMBIE_W, ZOMBIE_H = 29, 31
ARROW = 46
MACE = 32
# Player limits (players.Player) and zombie limits (zombie.Zombie), on rect centres and corners respectively.
Y_TOP, Y_BOT = PLAYER // 2, C.SCREEN_HEIGHT - PLAYER // 2
X_LEFT, X_RIGHT = C.WALL_WIDTH + PLAYER // 2, C.SCREEN_WIDTH - C.WALL_WIDTH - PLAYER // 2
ZOMBIE_X_MIN, ZOMBIE_X_MAX = C.WALL_WIDTH - ZOMBIE_H, C.SCREEN_WIDTH - C.WALL_WIDTH - ZOMBIE_W  # 69, 1151
ZOMBIE_Y_MAX = C.SCREEN_HEIGHT - ZOMBIE_H  # a zombie below this has crossed
# Zombie wobble: integers(0, 10) -> x step (1, 3, 6 right; 2, 4, 5, 8 left; else none).
WOBBLE = np.array([0, 1, -1, 1, -1, -1, 1, 0, -1, 0]) * C.ZOMBIE_X_SPEED
FORWARD, BACKWARD, TURN_CCW, TURN_CW, ATTACK, NONE = range(6)
TURNS = 360 // C.PLAYER_ANG_RATE  # headings a player can face: k turns clockwise from up


def _rotation(degrees: float) -> tuple[float, float]:
    """(cos, sin) exactly as pygame's `Vector2.rotate` uses them (its own angle reduction and libm calls)."""
    v = pygame.Vector2(1, 0).rotate(degrees)
    return v.x, v.y


# Rect side of a player's image after k clockwise turns (pygame.transform.rotate, as Player._update_image).
ROTATED_SIZE = np.array([
    pygame.transform.rotate(pygame.Surface((PLAYER, PLAYER)), -C.PLAYER_ANG_RATE * k).get_width() for k in range(TURNS)
])
TURN_CW_ROT = _rotation(C.PLAYER_ANG_RATE)
TURN_CCW_ROT = _rotation(-C.PLAYER_ANG_RATE)
# The mace's heading relative to the knight's at each arc the swing passes (MAX_ARC - SWORD_SPEED down to MIN_ARC).
ARCS = np.arange(C.MAX_ARC - C.SWORD_SPEED, C.MIN_ARC - 1, -C.SWORD_SPEED)  # (6,) 40 .. -60
ARC_ROT = np.array([_rotation(a) for a in ARCS])  # (6, 2) cos, sin


def _turn(direction: np.ndarray, cos_sin: np.ndarray) -> np.ndarray:
    """Vector2.rotate: (c x - s y, s x + c y). direction `(..., 2)`, cos_sin `(..., 2)` -> `(..., 2)`."""
    x, y = direction[..., 0], direction[..., 1]
    c, s = cos_sin[..., 0], cos_sin[..., 1]
    return np.stack([c * x - s * y, s * x + c * y], axis=-1)


def _overlap(ax, ay, aw, ah, bx, by, bw, bh) -> np.ndarray:
    """pygame `Rect.colliderect` of broadcastable rects (x, y, w, h): interiors overlap, touching edges do not."""
    return (ax < bx + bw) & (ax + aw > bx) & (ay < by + bh) & (ay + ah > by)


class _Pcg64:
    """B numpy `Generator(PCG64)`s drawing `integers(0, bound)` in step: the same numbers as each generator.

    numpy's PCG64 advances a 128-bit LCG (kept as two uint64 words) and outputs XSL-RR 64-bit words; a bounded
    integer below 2**32 takes one 32-bit half (the other half is buffered for the next draw) and maps it by
    Lemire's multiply-shift, drawing again in the rare case the low word falls under its rejection threshold.
    """

    MULT = 0x2360ED051FC65DA44385DF649FCCF645
    MULT_HI, MULT_LO = np.uint64(MULT >> 64), np.uint64(MULT & (2**64 - 1))
    M32 = np.uint64(0xFFFFFFFF)

    def __init__(self, seeds: Sequence[int]) -> None:
        words = []
        for seed in seeds:
            state = seeding.np_random(int(seed))[0].bit_generator.state["state"]
            s, inc = state["state"], state["inc"]
            words.append([s >> 64, s & (2**64 - 1), inc >> 64, inc & (2**64 - 1)])
        self.hi, self.lo, self.inc_hi, self.inc_lo = np.array(words, dtype=np.uint64).reshape(-1, 4).T.copy()
        self.has_half = np.zeros(len(words), dtype=bool)  # numpy's buffered upper 32 bits
        self.half = np.zeros(len(words), dtype=np.uint64)

    def take(self, rows: np.ndarray) -> _Pcg64:
        """The generators of the games `rows` (a repeated row gives a copy of the same generator)."""
        out = object.__new__(_Pcg64)
        out.__dict__.update({k: v[rows] if isinstance(v, np.ndarray) else v for k, v in vars(self).items()})
        return out

    def put(self, rows: np.ndarray, part: _Pcg64) -> None:
        """Writes back the generators `part` took from `rows`."""
        for k, v in vars(self).items():
            if isinstance(v, np.ndarray):
                v[rows] = getattr(part, k)

    def _mul(self, a: np.ndarray, b: np.uint64) -> tuple[np.ndarray, np.ndarray]:
        """Full 64 x 64 -> 128-bit product (hi, lo) from 32-bit halves."""
        m32, s32 = self.M32, np.uint64(32)
        a0, a1, b0, b1 = a & m32, a >> s32, b & m32, b >> s32
        p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
        mid = (p00 >> s32) + (p01 & m32) + (p10 & m32)
        return p11 + (p01 >> s32) + (p10 >> s32) + (mid >> s32), (p00 & m32) | (mid << s32)

    def _next32(self, need: np.ndarray) -> np.ndarray:
        """Next 32-bit draw `(B,)` uint64 for the games in `need` (others' state untouched)."""
        fresh = need & ~self.has_half
        hi, lo = self._mul(self.lo, self.MULT_LO)
        hi = hi + self.lo * self.MULT_HI + self.hi * self.MULT_LO
        lo = lo + self.inc_lo
        hi = hi + self.inc_hi + (lo < self.inc_lo).astype(np.uint64)  # carry of the low word
        self.hi, self.lo = np.where(fresh, hi, self.hi), np.where(fresh, lo, self.lo)
        x = self.hi ^ self.lo  # XSL-RR: xor the halves, rotate right by the top 6 bits
        rot = self.hi >> np.uint64(58)
        word = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
        out = np.where(fresh, word & self.M32, self.half)
        self.half = np.where(fresh, word >> np.uint64(32), self.half)
        self.has_half ^= need
        return out

    def integers(self, need: np.ndarray, bound: np.ndarray) -> np.ndarray:
        """`Generator.integers(0, bound)` for the games in `need`; `(B,)` int64 (0 elsewhere)."""
        bound = bound.astype(np.uint64)
        threshold = (np.uint64(2**32) - bound) % bound
        m = self._next32(need) * bound
        redraw = need & ((m & self.M32) < threshold)
        while redraw.any():
            m = np.where(redraw, self._next32(redraw) * bound, m)
            redraw &= (m & self.M32) < threshold
        return np.where(need, m >> np.uint64(32), 0).astype(np.int64)


class _Games:
    """The state of some games, every field an array whose first axis is the game (and the generators), so
    that a step can work on the games still running only."""

    def take(self, rows: np.ndarray) -> _Games:
        out = _Games()
        for k, v in vars(self).items():
            setattr(out, k, v.take(rows) if isinstance(v, _Pcg64) else v[rows])
        return out

    def put(self, rows: np.ndarray, part: _Games) -> None:
        for k, v in vars(self).items():
            if isinstance(v, _Pcg64):
                v.put(rows, part.rng)
            else:
                v[rows] = getattr(part, k)

    def reorder(self, names: tuple[str, ...], key: np.ndarray, touched: np.ndarray) -> None:
        """Sorts the slots of the fields `names` stably by `key` `(B, S)`, in the games whose order changes;
        only games `touched` `(B,)` (slots added or freed this cycle) can have changed, so only they are sorted."""
        candidates = np.flatnonzero(touched)
        if not len(candidates):
            return
        order = np.argsort(key[candidates], axis=1, kind="stable")  # (b, S)
        moved = (order != np.arange(key.shape[1])).any(axis=1)
        rows, order = candidates[moved], order[moved]
        if len(rows):
            for name in names:
                field = getattr(self, name)
                index = order.reshape(len(rows), -1, *(1,) * (field.ndim - 2))
                field[rows] = np.take_along_axis(field[rows], index, axis=1)


class KAZBatch:
    """B knights_archers_zombies games stepped together (integer rects, float64 headings, float32 obs)."""

    def __init__(
        self,
        num_envs: int,
        spawn_delay: int = 20,
        num_archers: int = 2,
        num_knights: int = 2,
        max_zombies: int = 10,
        max_arrows: int = 10,
        killable_knights: bool = True,
        killable_archers: bool = True,
        line_death: bool = False,
        max_cycles: int = 900,
        obs_method: str = "vector",
    ) -> None:
        self.num_envs = num_envs
        self.spawn_delay, self.max_zombies, self.max_arrows = spawn_delay, max_zombies, max_arrows
        self.line_death, self.max_cycles = line_death, max_cycles
        self.num_archers, self.num_knights = num_archers, num_knights
        self.agents = tuple([f"archer_{i}" for i in range(num_archers)] + [f"knight_{i}" for i in range(num_knights)])
        n = len(self.agents)
        self.is_archer = np.arange(n) < num_archers  # (n,)
        self.killable = np.where(self.is_archer, killable_archers, killable_knights)  # (n,)
        # Observation table rows: the viewer, archers, knights, maces, arrows, zombies; type masks in that order.
        kinds = [5] + [1] * num_archers + [2] * num_knights + [3] * num_knights + [4] * max_arrows + [0] * max_zombies
        masked = obs_method == "vector-masked"
        self.typemask = np.eye(6)[kinds] if masked else np.zeros((len(kinds), 0))  # (rows, 6 or 0)
        self.obs_dim = len(kinds) * (self.typemask.shape[1] + 5)
        self.alive = np.zeros((num_envs, n), dtype=bool)  # in env.agents
        self.done = np.ones(num_envs, dtype=bool)
        self.spawn_timer = np.zeros(num_envs, dtype=np.int64)  # the env's, never reset (see the module docstring)
        # Start rects: centred at (ARCHER_X or KNIGHT_X, 610), then shifted 50 px per the name's last digit.
        digit = np.array([int(a[-1]) for a in self.agents], dtype=np.int64)
        self.start_x = np.where(self.is_archer, C.ARCHER_X, C.KNIGHT_X) - PLAYER // 2 + 50 * digit
        self.start_y = np.full(n, C.ARCHER_Y - PLAYER // 2)
        self.frames = 0
        self.g = _Games()

    # ------------------------------------------------------------------ reset
    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Start each game from its seed, exactly as `env.reset(seed=s)`; returns obs `(B, n, obs_dim)`."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"need {self.num_envs} seeds, got {len(seeds)}")
        B, n, R, Z, K = self.num_envs, len(self.agents), self.max_arrows, self.max_zombies, self.num_knights
        unique, inverse = np.unique(np.asarray(seeds, dtype=np.int64), return_inverse=True)
        g = self.g = _Games()
        g.rng = _Pcg64(unique).take(inverse.reshape(-1))
        g.spawn_timer = self.spawn_timer  # shared: it outlives the episode
        # players: rect corner and side, heading, turns taken (mod 36), attack timeout (-1: none), unpaid kills
        g.px, g.py = np.tile(self.start_x, (B, 1)), np.tile(self.start_y, (B, 1))  # (B, n)
        g.size = np.full((B, n), PLAYER)
        g.heading = np.tile([0.0, -1.0], (B, n, 1))  # (B, n, 2)
        g.turns = np.zeros((B, n), dtype=np.int64)
        g.timeout = np.full((B, n), -1)
        g.score = np.zeros((B, n), dtype=np.int64)
        g.in_play = np.ones((B, n), dtype=bool)  # in the env's player_list: what zombies can touch
        g.gone = np.zeros((B, n), dtype=bool)  # in dead_agents: zeros in the table
        # arrows, kept in the env's order (by archer, then by firing time), free slots last
        g.arrow = np.zeros((B, R), dtype=bool)
        g.ax, g.ay, g.aowner, g.afired = (np.zeros((B, R), dtype=np.int64) for _ in range(4))
        g.adir = np.zeros((B, R, 2))
        # maces, one slot per knight; a mace's heading is its knight's (a swinging knight cannot turn)
        g.mace = np.zeros((B, K), dtype=bool)
        g.arc, g.mx, g.my = (np.zeros((B, K), dtype=np.int64) for _ in range(3))
        # zombies, kept in the env's order (spawn order), free slots last
        g.zombie = np.zeros((B, Z), dtype=bool)
        g.zx, g.zy, g.wobble = (np.zeros((B, Z), dtype=np.int64) for _ in range(3))
        self.frames = 0
        self.alive[:] = True
        self.done[:] = False
        return self._observe(g, self.alive)

    def clone_rows(self, source: np.ndarray) -> None:
        """Game i goes on as a copy of game `source[i]` `(B,)`: its whole state, zombie generator and spawn timer
        included, so copies given the same actions play the same. Lets GRPO branch a group's rollouts from one
        mid-episode state (`GRPOConfig.branch_every`); every game is at the same cycle, as they reset together."""
        source = np.asarray(source, dtype=np.int64)
        self.g.put(np.arange(self.num_envs), self.g.take(source))
        self.alive[:] = self.alive[source]
        self.done[:] = self.done[source]

    # ------------------------------------------------------------------ step
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """actions `(B, n)` in 0..5 -> obs `(B, n, obs_dim)` float32, rewards `(B, n)` float32, done `(B,)`.

        One AEC cycle of every running game; actions of gone agents and of ended games are ignored. Once some
        games have ended, the cycle runs on the others only (gathered, then written back).
        """
        B, n = self.alive.shape
        rows = np.flatnonzero(~self.done)
        everyone = len(rows) == B
        g = self.g if everyone else self.g.take(rows)
        live = self.alive[rows]  # (b, n) the agents that act this cycle
        obs_part, rewards_part, killed, end = self._cycle(g, np.asarray(actions, dtype=np.int64)[rows], live)
        self.frames += 1
        self.alive[rows] = live & ~killed & ~end[:, None]
        self.done[rows] = end
        if everyone:
            return obs_part, rewards_part.astype(np.float32), self.done.copy()
        self.g.put(rows, g)
        obs = np.zeros((B, n, self.obs_dim), dtype=np.float32)
        rewards = np.zeros((B, n), dtype=np.float32)
        obs[rows], rewards[rows] = obs_part, rewards_part
        return obs, rewards, self.done.copy()

    def _cycle(self, g: _Games, actions: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, ...]:
        """One cycle of the running games `g` -> obs, rewards, who died `(b, n)`, which games ended `(b,)`."""
        first = live & (np.cumsum(live, axis=1) == 1)
        rewards = np.where(live & ~first, g.score, 0)  # paid as the agent before each one acts
        g.score[live] = 0
        killed = self._act(g, actions, live)
        self._apply_weapons(g)
        killed |= self._zombie_turn(g)
        g.gone |= killed

        crossed = (g.zombie & (g.zy > ZOMBIE_Y_MAX)).any(axis=1)
        end = crossed | ~g.in_play.any(axis=1) | (self.frames + 1 >= self.max_cycles)
        # paid at the end of the cycle: the next cycle's first agent, or this cycle's last when none is left
        left = live & ~killed
        last = live.shape[1] - 1 - np.argmax(live[:, ::-1], axis=1)
        payee = np.where(left.any(axis=1), np.argmax(left, axis=1), last)  # (b,)
        everyone = np.arange(len(payee))
        rewards[everyone, payee] += g.score[everyone, payee]
        return self._observe(g, live), rewards, killed, end

    def _act(self, g: _Games, actions: np.ndarray, live: np.ndarray) -> np.ndarray:
        """Every live agent's action, in agent order; returns who left the screen under line_death `(b, n)`."""
        # A swinging knight is blocked from everything until its timeout's 7th cycle.
        swinging = live & ~self.is_archer & (g.timeout >= 0)
        g.timeout[swinging] += 1
        released = swinging & (g.timeout == C.KNIGHT_TIMEOUT)
        g.timeout[released] = -1
        acts = live & ~(swinging & ~released)  # (b, n)

        # Archers shoot in order: each arrow counts toward max_arrows for the archers after it. A try beyond
        # max_arrows is a no-op; others advance the archer's timeout, and its 4th try after a shot shoots.
        count = g.arrow.sum(axis=1)  # (b,)
        shot = np.zeros(len(count), dtype=bool)  # (b,) games with a new arrow
        for i in range(self.num_archers):
            trying = acts[:, i] & (actions[:, i] == ATTACK) & (count < self.max_arrows)
            waiting = trying & (g.timeout[:, i] >= 0)
            g.timeout[waiting, i] += 1
            shoots = trying & (~waiting | (g.timeout[:, i] == C.ARROW_TIMEOUT))
            g.timeout[shoots, i] = 0
            b = np.flatnonzero(shoots)
            slot = np.argmin(g.arrow[b], axis=1)  # a free slot; the order is restored below
            g.arrow[b, slot] = True
            g.ax[b, slot] = g.px[b, i] + g.size[b, i] // 2 - ARROW // 2  # centred on the archer
            g.ay[b, slot] = g.py[b, i] + g.size[b, i] // 2 - ARROW // 2
            g.adir[b, slot] = g.heading[b, i]
            g.aowner[b, slot], g.afired[b, slot] = i, self.frames
            count += shoots
            shot |= shoots
        self._sort_arrows(g, shot)

        # Knights' attack starts a mace swing (and the timeout that blocks them).
        knight = np.flatnonzero(~self.is_archer)
        swings = acts[:, knight] & (actions[:, knight] == ATTACK)  # (b, K)
        g.mace |= swings
        g.arc[swings] = C.MAX_ARC
        g.timeout[:, knight] = np.where(swings, 0, g.timeout[:, knight])

        # Moves (pygame rounds each axis, half to even) and 10-degree turns about the rect's centre.
        speed = np.where(self.is_archer, C.ARCHER_SPEED, C.KNIGHT_SPEED)  # (n,)
        step = np.rint(g.heading * speed[:, None]).astype(np.int64)  # (b, n, 2)
        sign = acts * ((actions == FORWARD).astype(np.int64) - (actions == BACKWARD))  # (b, n)
        g.px += sign * step[..., 0]
        g.py += sign * step[..., 1]
        turn = acts * ((actions == TURN_CW).astype(np.int64) - (actions == TURN_CCW))  # (b, n)
        cos_sin = np.where((turn > 0)[..., None], TURN_CW_ROT, TURN_CCW_ROT)  # (b, n, 2)
        g.heading = np.where((turn != 0)[..., None], _turn(g.heading, cos_sin), g.heading)
        g.turns = (g.turns + turn) % TURNS
        centre_x, centre_y = g.px + g.size // 2, g.py + g.size // 2
        out = acts & ((centre_y < Y_TOP) | (centre_y > Y_BOT))
        g.size = ROTATED_SIZE[g.turns]
        g.px = np.clip(centre_x, X_LEFT, X_RIGHT) - g.size // 2
        g.py = np.clip(centre_y, Y_TOP, Y_BOT) - g.size // 2
        if not self.line_death:
            return np.zeros_like(out)
        self._remove(g, out)
        return out

    def _sort_arrows(self, g: _Games, touched: np.ndarray) -> None:
        """Arrows in the env's order (archer_0's by firing time, then archer_1's, ..), free slots last."""
        key = np.where(g.arrow, g.aowner * (self.max_cycles + 1) + g.afired, np.iinfo(np.int64).max)
        g.reorder(("arrow", "ax", "ay", "aowner", "afired", "adir"), key, touched)

    def _remove(self, g: _Games, who: np.ndarray) -> None:
        """env._remove_agent for the agents `who` `(b, n)`: out of play, and a knight's mace is dropped."""
        g.in_play &= ~who
        g.mace &= ~who[:, ~self.is_archer]

    def _apply_weapons(self, g: _Games) -> None:
        """Weapons move (arrows fly on even when their archer is dead), then kill the zombies they touch."""
        flying = g.arrow.copy()
        centre_x = np.trunc(g.ax + ARROW // 2 + g.adir[..., 0] * C.ARROW_SPEED).astype(np.int64)
        centre_y = np.trunc(g.ay + ARROW // 2 + g.adir[..., 1] * C.ARROW_SPEED).astype(np.int64)
        g.ax, g.ay = centre_x - ARROW // 2, centre_y - ARROW // 2
        g.arrow &= (g.ax >= 0) & (g.ay >= 0) & (g.ax <= C.SCREEN_WIDTH) & (g.ay <= C.SCREEN_HEIGHT)

        # The mace sweeps from MAX_ARC to MIN_ARC beside its knight, then is put away.
        g.mace &= g.arc > C.MIN_ARC
        g.arc = np.where(g.mace, g.arc - C.SWORD_SPEED, g.arc)
        knight = ~self.is_archer
        side = g.size[:, knight]  # (b, K)
        rot = ARC_ROT[np.clip((ARCS[0] - g.arc) // C.SWORD_SPEED, 0, len(ARCS) - 1)]  # (b, K, 2)
        swing = _turn(g.heading[:, knight], rot)  # (b, K, 2)
        g.mx = g.px[:, knight] + side // 2 - MACE // 2 + np.trunc(swing[..., 0] * (MACE + side) / 2).astype(np.int64)
        g.my = g.py[:, knight] + side // 2 - MACE // 2 + np.trunc(swing[..., 1] * (MACE + side) / 2).astype(np.int64)

        # Each zombie falls to the first weapon in the env's order that touches it; an arrow that kills goes.
        wx = np.concatenate([g.ax, g.mx], axis=1)  # (b, W)
        wy = np.concatenate([g.ay, g.my], axis=1)
        wside = np.repeat([ARROW, MACE], [self.max_arrows, self.num_knights])  # (W,)
        armed = np.concatenate([g.arrow, g.mace], axis=1)  # (b, W)
        owner = np.concatenate([g.aowner, np.broadcast_to(np.flatnonzero(knight), g.mace.shape)], axis=1)
        touch = armed[:, :, None] & g.zombie[:, None, :] & _overlap(
            wx[:, :, None], wy[:, :, None], wside[:, None], wside[:, None],
            g.zx[:, None, :], g.zy[:, None, :], ZOMBIE_W, ZOMBIE_H,
        )  # (b, W, Z)
        hit = touch.any(axis=1)  # (b, Z)
        games, zombies = np.nonzero(hit)  # (kills,) each
        killer = np.argmax(touch[games, :, zombies], axis=1)  # (kills,) the first weapon touching the zombie
        np.add.at(g.score, (games, owner[games, killer]), 1)
        arrow = killer < self.max_arrows
        g.arrow[games[arrow], killer[arrow]] = False
        self._sort_arrows(g, (flying != g.arrow).any(axis=1))
        g.zombie &= ~hit
        g.reorder(("zombie", "zx", "zy", "wobble"), ~g.zombie, hit.any(axis=1))  # survivors keep their order

    def _zombie_turn(self, g: _Games) -> np.ndarray:
        """Zombies touch players, walk, and spawn; returns the agents they killed `(b, n)`."""
        touch = g.zombie[:, None, :] & _overlap(
            g.px[:, :, None], g.py[:, :, None], g.size[:, :, None], g.size[:, :, None],
            g.zx[:, None, :], g.zy[:, None, :], ZOMBIE_W, ZOMBIE_H,
        )  # (b, n, Z)
        touched = g.in_play & touch.any(axis=2)  # (b, n)
        killed = touched & self.killable
        g.in_play &= ~touched  # touched but unkillable agents leave player_list all the same
        self._remove(g, killed)

        # Walk down; every 3rd step of its own, a zombie draws a sideways step (refused through a wall).
        g.zy += C.ZOMBIE_Y_SPEED * g.zombie
        g.wobble += g.zombie
        wobbles = g.zombie & (g.wobble == 3)  # (b, Z)
        g.wobble[wobbles] = 0
        count = g.zombie.sum(axis=1)  # (b,)
        g.spawn_timer += count < self.max_zombies
        spawns = g.spawn_timer == self.spawn_delay
        g.spawn_timer[spawns] = 0
        # Draws per game, in the env's order: one per wobbling zombie (in list order), then the spawn.
        n_wobbles = wobbles.sum(axis=1)  # (b,)
        draws = np.zeros((len(count), self.max_zombies + 1), dtype=np.int64)
        for r in range(int((n_wobbles + spawns).max(initial=0))):
            bound = np.where(r < n_wobbles, 10, ZOMBIE_X_MAX - ZOMBIE_X_MIN)
            draws[:, r] = g.rng.integers(r < n_wobbles + spawns, bound)
        rank = np.cumsum(wobbles, axis=1) - 1  # (b, Z) which draw each wobbling zombie takes
        choice = np.where(wobbles, np.take_along_axis(draws, np.maximum(rank, 0), axis=1), 0)  # 0: no step
        proposed = g.zx + WOBBLE[choice]
        g.zx = np.where(wobbles & (proposed >= ZOMBIE_X_MIN) & (proposed <= ZOMBIE_X_MAX), proposed, g.zx)

        b = np.flatnonzero(spawns)
        slot = count[b]  # zombies fill the first slots, so the new one goes last
        g.zombie[b, slot] = True
        g.zx[b, slot] = ZOMBIE_X_MIN + draws[b, n_wobbles[b]]
        g.zy[b, slot], g.wobble[b, slot] = 5, 0
        return killed

    # ------------------------------------------------------------------ observation
    def _observe(self, g: _Games, seen: np.ndarray) -> np.ndarray:
        """The env's vector observation of every agent in `seen` `(b, n)` (others 0), flattened to obs_dim.

        Entities: [x / W, y / H, heading] of rect corners; each viewer's row 0 is its own, the others are
        [distance / sqrt 2, position relative to the viewer, heading], all zeros where nothing is.
        """
        b, n = seen.shape
        knight = ~self.is_archer
        order = np.argsort(~g.mace, axis=1, kind="stable")  # maces listed in knight order, no gaps
        mx, my, mace = (np.take_along_axis(a, order, axis=1) for a in (g.mx, g.my, g.mace))
        mdir = np.take_along_axis(g.heading[:, knight], order[..., None], axis=1)
        zdir = np.broadcast_to([0.0, 1.0], (*g.zx.shape, 2))
        x = np.concatenate([g.px, mx, g.ax, g.zx], axis=1) / C.SCREEN_WIDTH  # (b, E)
        y = np.concatenate([g.py, my, g.ay, g.zy], axis=1) / C.SCREEN_HEIGHT
        heading = np.concatenate([g.heading, mdir, g.adir, zdir], axis=1)  # (b, E, 2)
        exists = np.concatenate([~g.gone, mace, g.arrow, g.zombie], axis=1)  # (b, E)
        shown = seen[:, :, None] & exists[:, None]  # (b, n, E)

        # Written straight into the env's (rows, width) tables, column by column: float64 maths (in place where
        # it can be), one cast to float32 on writing. Headings are cast first: times 0 or 1 is exact either way.
        m = self.typemask.shape[1]
        out = np.zeros((b, n, len(self.typemask), m + 5), dtype=np.float32)  # (b, n, rows, width)
        rel_x = x[:, None, :] - x[:, :n, None]  # (b, n, E) relative to each viewer
        rel_x *= shown
        rel_y = y[:, None, :] - y[:, :n, None]
        rel_y *= shown
        distance = rel_x * rel_x
        distance += rel_y * rel_y
        np.sqrt(distance, out=distance)
        distance /= np.sqrt(2)
        out[:, :, 1:, m], out[:, :, 1:, m + 1], out[:, :, 1:, m + 2] = distance, rel_x, rel_y
        heading = heading.astype(np.float32)
        np.multiply(heading[:, None, :, 0], shown, out=out[:, :, 1:, m + 3])
        np.multiply(heading[:, None, :, 1], shown, out=out[:, :, 1:, m + 4])
        # row 0: the viewer's own position and heading (distance 0)
        out[:, :, 0, m + 1], out[:, :, 0, m + 2] = x[:, :n] * seen, y[:, :n] * seen
        out[:, :, 0, m + 3 :] = g.heading * seen[..., None]
        if m:
            present = np.concatenate([seen[..., None], shown], axis=2)  # (b, n, rows)
            out[..., :m] = self.typemask * present[..., None]
        return out.reshape(b, n, self.obs_dim)

    def close(self) -> None:
        """Nothing to free; here so every batch can be closed the same way."""


def make_batch(num_envs: int, **kwargs: Any) -> KAZBatch | None:
    """The vectorized core for the vector observations ("vector", "vector-masked"); None for the others."""
    if kwargs["obs_method"] not in ("vector", "vector-masked"):
        return None
    return KAZBatch(num_envs, **kwargs)
