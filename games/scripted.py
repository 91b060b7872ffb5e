"""Scripted baselines: the 1.0 of the normalized score `(R - R_random) / (R_scripted - R_random)`.

Random actions are the 0.0: what a team does knowing nothing. The scripted policy is the 1.0: what a team does
with the obvious plan a person would write down after reading the rules, using only what each agent sees. A
learned team that scores above 1 found something better than the obvious plan; below 0, it is worse than noise.
So each baseline below is honest and simple: the plain strategy the game suggests, steered well, with no
search and no learning (the steering gain and dead zone were set by hand, see below).

Every policy is `policy(obs, info) -> actions`: padded batched observations `(B, n_agents, info.max_obs_dim)`
exactly as `games.get(name).batch(B)` returns them -> int64 actions `(B, n_agents)`. Each is a pure,
deterministic function of the observation (no memory between steps): each agent acts on its own row only
(and, in pursuit, its seat number).

- simple_spread: every agent rebuilds the whole scene relative to itself (its landmarks and teammates are in
  its observation), finds the agent -> landmark assignment of least total distance (every permutation for
  N <= 6, greedy beyond) and steers to its own landmark. All agents see the same scene, so they agree on the
  assignment without talking. Collisions are not avoided.
- simple_speaker_listener: the speaker names the goal (the brightest channel of the goal colour it sees is the
  goal landmark's index); the listener steers to the landmark the word names.
- simple_reference: each agent says the index of the goal colour it sees (the other agent's goal) and steers to
  the landmark the other agent's word names.
- pursuit: an evader is caught when pursuers hold every open cell beside it, so each pursuer heads for the
  nearest open cell beside a visible evader that no other pursuer holds (Manhattan distance, ties to the first
  in row-major order, stepping along the axis with the larger gap); it stays put once there or with none in view.
  Pursuers sharing a cell see the same window and would move as one forever, so they split up: each takes
  the move numbered by its seat (mod 5). That seat number is the only thing here that is not the observation.
- knights_archers_zombies: a zombie that reaches the bottom ends the game, so archers turn toward the lowest
  zombie (aiming ahead of its walk) and shoot once it is within KAZ_LANE px of their line of fire; knights turn
  toward the nearest zombie, walk up to it and swing once it is within KAZ_REACH px and in front. With no
  zombie in sight everyone faces up and waits. It holds the line for the whole 900 cycles on held-out seeds.

Steering (the MPE games) is a PD rule on the discrete moves: aim at the target minus `K_VEL * velocity`, the
point the agent reaches if it brakes now, and push along the axis where that aim is furthest off, or no-op once
it is within DEAD_ZONE. Velocity decays by 1 - DAMPING per step and a move adds ACCEL * DT (mpe2's constants,
see games/simple_spread.py), so the braking distance per unit of speed lies between about 0.15 (full reverse
thrust from top speed) and DT / DAMPING = 0.4 (coasting). K_VEL = 0.2 and DEAD_ZONE = 0.025 were picked by hand
on seeds 0..199 (returns are flat for K_VEL from 0.18 to 0.25; the coasting 0.4 brakes too early and costs about
1 point in simple_spread), which brings the agent in fast and lets it settle on the target instead of circling.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from games.rollout import Policy
from games.spec import GameInfo, one_hot_numbers


K_VEL = 0.2  # braking distance per unit of speed (the D of the PD rule)
DEAD_ZONE = 0.025  # no-op once the braking point is this close to the target on both axes
MAX_EXACT = 6  # largest N whose assignment tries every permutation (720)


def steer(rel: np.ndarray, vel: np.ndarray) -> np.ndarray:
    """MPE move (0 no-op, 1 -x, 2 +x, 3 -y, 4 +y) toward a target: push along the axis where the target is
    furthest from the braking point `rel - K_VEL * vel`, or no-op within DEAD_ZONE of it.

    rel: target relative to the agent `(..., 2)`; vel: the agent's velocity `(..., 2)` -> int64 `(...)`.
    """
    desired = rel - K_VEL * vel  # (..., 2)
    axis = np.argmax(np.abs(desired), axis=-1)  # (...,) 0 = x, 1 = y
    ahead = np.take_along_axis(desired, axis[..., None], axis=-1)[..., 0]  # (...,)
    return np.where(np.abs(ahead) > DEAD_ZONE, 1 + 2 * axis + (ahead > 0), 0).astype(np.int64)


def assign(agents: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Landmark of each agent under the assignment of least total distance.

    agents, landmarks: positions `(..., N, 2)` -> int64 `(..., N)`, a permutation of 0..N-1. Exact for
    N <= MAX_EXACT (ties: the first permutation in lexicographic order); greedy closest pair first beyond.
    """
    n = agents.shape[-2]
    dist = np.linalg.norm(agents[..., :, None, :] - landmarks[..., None, :, :], axis=-1)  # (..., N agents, N lms)
    if n <= MAX_EXACT:
        perms = np.array(list(itertools.permutations(range(n))))  # (P, N)
        total = dist[..., np.arange(n), perms].sum(axis=-1)  # (..., P)
        return perms[np.argmin(total, axis=-1)]
    flat = dist.reshape(-1, n, n).copy()  # (M, N, N)
    out = np.zeros((len(flat), n), dtype=np.int64)
    rows = np.arange(len(flat))
    for _ in range(n):
        a, lm = np.unravel_index(np.argmin(flat.reshape(len(flat), -1), axis=-1), (n, n))  # (M,) each
        out[rows, a] = lm
        flat[rows, a, :] = np.inf
        flat[rows, :, lm] = np.inf
    return out.reshape(dist.shape[:-1])


def spread_targets(obs: np.ndarray) -> np.ndarray:
    """simple_spread: the landmark each agent assigns itself, from its own observation.

    obs `(B, N, 6N)` (vel 2, pos 2, landmarks 2N, others 2(N-1), silent comm 2(N-1)) -> int64 `(B, N)`.
    """
    B, n = obs.shape[:2]
    landmarks = obs[..., 4 : 4 + 2 * n].reshape(B, n, n, 2).astype(np.float64)  # (B, viewer, L, 2)
    agents = np.zeros((B, n, n, 2))  # (B, viewer, agent, 2), the viewer at its own origin
    agents[:, ~np.eye(n, dtype=bool)] = obs[..., 4 + 2 * n : 2 + 4 * n].reshape(B, n * (n - 1), 2)
    return assign(agents, landmarks)[:, np.arange(n), np.arange(n)]  # (B, N): viewer i's landmark for agent i


def simple_spread(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """Each agent steers to its landmark in the least-total-distance assignment. With continuous actions
    (Box(0, 1, (5,)): no-op, left, right, down, up, mpe2 moving by right - left and up - down) the same move
    as a one-hot vector: the same forces, so the same game."""
    B, n = obs.shape[:2]
    landmarks = obs[..., 4 : 4 + 2 * n].reshape(B, n, n, 2)  # (B, N, L, 2) relative to each agent
    target = np.take_along_axis(landmarks, spread_targets(obs)[..., None, None], axis=2)[:, :, 0]  # (B, N, 2)
    return as_numbers(steer(target, obs[..., 0:2]), info)


def simple_line(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """simple_line (obs 8: vel 2, pos 2, landmarks 0 and 1 relative to the agent 4): agent i steers to the i-th of
    the N evenly spaced slots from landmark 0 to landmark 1 (its seat is all it knows of the others)."""
    n = obs.shape[1]
    share = (np.arange(n) / max(n - 1, 1))[None, :, None]  # (1, N, 1) how far along the line
    target = obs[..., 4:6] + share * (obs[..., 6:8] - obs[..., 4:6])  # (B, N, 2) relative to each agent
    return as_numbers(steer(target, obs[..., 0:2]), info)


def simple_formation(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """simple_formation (obs 6: vel 2, pos 2, the landmark relative to the agent 2): agent i steers to the point
    at angle 2 pi i / N on the radius-0.5 circle round the landmark (so agent 0 sits at the smallest angle)."""
    n = obs.shape[1]
    angle = 2 * np.pi * np.arange(n) / n  # (N,)
    slot = 0.5 * np.stack([np.cos(angle), np.sin(angle)], -1)  # (N, 2) relative to the landmark
    return as_numbers(steer(obs[..., 4:6] + slot, obs[..., 0:2]), info)


def as_numbers(actions: np.ndarray, info: GameInfo, moves: int = 0) -> np.ndarray:
    """Discrete MPE actions `(B, n)` as the game's actions: themselves, or in a game of Box actions the one-hot
    numbers `(B, n, d)` float32 that act the same way (`games.spec.one_hot_numbers`; `moves` above 0:
    simple_reference's action = move + moves * word)."""
    if not getattr(info, "continuous", False):
        return actions
    return one_hot_numbers(actions, max(info.n_actions.values()), moves)


def named_landmark(landmarks: np.ndarray, word: np.ndarray) -> np.ndarray:
    """The landmark a one-hot `word` `(B, W)` names among `landmarks` `(B, L, 2)`; before any word is heard
    (the first step) the centre of the landmarks, the best guess under a distance reward. -> `(B, 2)`."""
    named = landmarks[np.arange(len(word)), np.argmax(word[:, : landmarks.shape[1]], axis=-1)]
    return np.where(word.any(axis=-1, keepdims=True), named, landmarks.mean(axis=1))


def simple_speaker_listener(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """Speaker (obs 3: goal colour) says the goal's index; listener (obs 11: vel 2, landmarks 6, word 3) goes."""
    word = np.argmax(obs[:, 0, 0:3], axis=-1)  # (B,)
    listener = obs[:, 1]  # (B, 11)
    target = named_landmark(listener[:, 2:8].reshape(-1, 3, 2), listener[:, 8:11])  # (B, 2)
    return as_numbers(np.stack([word, steer(target, listener[:, 0:2])], axis=1).astype(np.int64), info)


def simple_reference(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """Each agent (obs 21: vel 2, landmarks 6, partner's goal colour 3, partner's word 10) says the colour's
    index and steers to the landmark its partner names; action = move + 5 * word."""
    B, n = obs.shape[:2]
    flat = obs.reshape(B * n, -1)  # (B*2, 21)
    word = np.argmax(flat[:, 8:11], axis=-1)  # (B*2,)
    target = named_landmark(flat[:, 2:8].reshape(-1, 3, 2), flat[:, 11:21])  # (B*2, 2)
    return as_numbers((steer(target, flat[:, 0:2]) + 5 * word).reshape(B, n).astype(np.int64), info, moves=5)


def pursuit(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """Each pursuer heads for the nearest open cell next to a visible evader; stacked pursuers split by seat.

    The window `(rows, cols, 3)` (walls, pursuers, evaders) has row = y offset + rows // 2 and column =
    x offset + cols // 2, the pursuer at the centre; moves are 0 -x (column - 1), 1 +x, 2 +y (row + 1), 3 -y,
    4 stay.
    """
    return pursuit_toward(obs, info, pursuit_window(obs, info)[..., 2] > 0)


def pursuit_window(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """Each pursuer's window `(B, N, rows, cols, 3)` (walls, pursuers, evaders) from the padded observations."""
    rows, cols, _ = info.obs_shapes["pursuer"]
    B, n = obs.shape[:2]
    return obs[..., : rows * cols * 3].reshape(B, n, rows, cols, 3)


def pursuit_toward(obs: np.ndarray, info: GameInfo, chase: np.ndarray) -> np.ndarray:
    """pursuit's plan toward chosen evaders: `chase` `(B, N, rows, cols)` bool marks, in each pursuer's window,
    the evaders it goes for (all visible ones in the scripted plan; one in `games.styles`' stubborn pursuer)."""
    grid = pursuit_window(obs, info)
    B, n, rows, cols, _ = grid.shape
    others = grid[..., 1].copy()  # (B, N, rows, cols) pursuers per cell, less the viewer itself
    others[..., rows // 2, cols // 2] -= 1
    beside = np.zeros_like(chase)  # cells next to a chased evader (4-neighbourhood)
    beside[..., 1:, :] |= chase[..., :-1, :]
    beside[..., :-1, :] |= chase[..., 1:, :]
    beside[..., :, 1:] |= chase[..., :, :-1]
    beside[..., :, :-1] |= chase[..., :, 1:]
    goal = (beside & (grid[..., 0] == 0) & (others <= 0)).reshape(B, n, -1)  # (B, N, cells)
    dy, dx = np.divmod(np.arange(rows * cols), cols)
    dy, dx = dy - rows // 2, dx - cols // 2  # (cells,) offsets of each cell from the pursuer
    nearest = np.argmin(np.where(goal, np.abs(dy) + np.abs(dx), rows + cols), axis=-1)  # (B, N)
    gy, gx = dy[nearest], dx[nearest]  # (B, N)
    move = np.where(np.abs(gx) >= np.abs(gy), np.where(gx < 0, 0, 1), np.where(gy > 0, 2, 3))
    move = np.where(goal.any(axis=-1) & ((gx != 0) | (gy != 0)), move, 4)
    stacked = others[..., rows // 2, cols // 2] > 0  # (B, N) identical views would move together forever
    return np.where(stacked, np.arange(n) % 5, move).astype(np.int64)


KAZ_REACH = 70.0  # px between knight and zombie centres within which a swing of the mace lands
KAZ_LANE = 20.0  # px: an archer shoots when the zombie's centre is this close to its line of fire
KAZ_ARROW_SPEED, KAZ_ZOMBIE_SPEED = 45.0, 5.0  # px per step (PettingZoo's constants)


def knights_archers_zombies(obs: np.ndarray, info: GameInfo) -> np.ndarray:
    """Archers turn toward the lowest zombie (the next to cross), aimed ahead of its walk, and shoot once it
    is in their line of fire; knights turn toward the nearest zombie, walk up to it and swing once it is in
    reach and in front. With no zombie in sight everyone turns to face up and waits.

    Each agent reads its own table (row 0: own rect corner / (W, H) and heading; then one row per entity:
    distance, corner offset / (W, H), heading). Zombies are the rows after the players and maces that face
    exactly (0, 1): they always walk straight down, while arrows and maces carry turned headings.
    Moves: 0 forward, 1 back, 2 turn counter-clockwise, 3 turn clockwise, 4 attack, 5 no-op.
    """
    view = kaz_view(obs, info)
    return kaz_moves(view, kaz_pick(view))


@dataclass
class KazView:
    """What each agent of knights_archers_zombies sees, read off its table; E = arrow and zombie rows."""

    dx: np.ndarray
    """`(B, n, E)` px from the agent's centre to each row's centre (as if it were a zombie)."""
    dy: np.ndarray
    """`(B, n, E)` px, y pointing down."""
    zombie: np.ndarray
    """`(B, n, E)` bool: the row is a zombie."""
    corner: np.ndarray
    """`(B, n, E, 2)` px: each row's top-left corner on the screen (where a zombie is, whoever looks)."""
    heading: np.ndarray
    """`(B, n, 2)` the agent's heading."""
    archer: np.ndarray
    """`(n,)` bool: the seat is an archer."""


def kaz_view(obs: np.ndarray, info: GameInfo) -> KazView:
    """Each agent's zombies, relative and on the screen, from the padded observations `(B, n, D)`."""
    B, n = obs.shape[:2]
    width = info.obs_shapes[info.role_of(info.agents[0])][-1]
    rows = obs.reshape(B, n, -1, width)[..., -5:].astype(np.float64)  # (B, n, rows, 5), type masks dropped
    things = rows[:, :, 1 + n + len(info.roles.get("knight", ())) :]  # (B, n, E, 5) arrows and zombies
    zombie = (things[..., 3] == 0) & (things[..., 4] == 1)  # (B, n, E)
    # centre of each zombie (29 x 31) relative to the agent's centre (a 32-45 px rect, ~19 px to its centre)
    dx = things[..., 1] * 1280 + 14.5 - 19  # (B, n, E) px
    dy = things[..., 2] * 720 + 15.5 - 19
    corner = (rows[:, :, :1, 1:3] + things[..., 1:3]) * np.array([1280.0, 720.0])  # (B, n, E, 2)
    archer = np.array([info.role_of(a) == "archer" for a in info.agents])  # (n,)
    return KazView(dx, dy, zombie, corner, rows[:, :, 0, 3:5], archer)


def kaz_pick(view: KazView) -> np.ndarray:
    """The zombie row each agent takes on `(B, n)`: archers the lowest (the next to cross), knights the
    nearest. Meaningless where an agent sees no zombie (`kaz_moves` then faces up)."""
    lowest = np.where(view.zombie, -view.dy, np.inf)
    nearest = np.where(view.zombie, np.hypot(view.dx, view.dy), np.inf)
    return np.argmin(np.where(view.archer[:, None], lowest, nearest), axis=-1)


def kaz_moves(view: KazView, target: np.ndarray) -> np.ndarray:
    """Moves toward each agent's `target` row `(B, n)`: archers aim ahead of its walk and shoot once it is in
    their line of fire, knights walk up and swing once it is in reach and in front; no zombie: face up."""
    archer, heading = view.archer, view.heading
    tx = np.take_along_axis(view.dx, target[..., None], axis=-1)[..., 0]  # (B, n)
    ty = np.take_along_axis(view.dy, target[..., None], axis=-1)[..., 0]
    seen = view.zombie.any(axis=-1)
    # archers lead the zombie by its walk while the arrow flies
    ty = np.where(archer, ty + KAZ_ZOMBIE_SPEED * np.hypot(tx, ty) / KAZ_ARROW_SPEED, ty)
    tx, ty = np.where(seen, tx, 0.0), np.where(seen, ty, -1.0)  # no zombie: face up
    ahead = heading[..., 0] * tx + heading[..., 1] * ty  # (B, n) along the heading
    side = heading[..., 0] * ty - heading[..., 1] * tx  # (B, n) > 0: the target is clockwise (y points down)
    aligned = (ahead > 0) & (np.abs(side) < KAZ_LANE)
    turn = np.where(side > 0, 3, 2)
    archer_move = np.where(aligned, 4, turn)
    in_reach = (np.hypot(tx, ty) < KAZ_REACH) & (ahead > np.abs(side) * 0.5)  # within ~60 degrees
    knight_move = np.where(in_reach, 4, np.where(np.abs(side) < 0.3 * np.hypot(tx, ty), 0, turn))
    moves = np.where(archer, archer_move, knight_move)
    idle = ~seen & (ahead > 0) & (np.abs(side) < 0.1)
    return np.where(idle, 5, moves).astype(np.int64)
