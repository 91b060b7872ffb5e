"""Game symmetries: relabellings of the landmarks (Hanabi: the colours) under which a game stays the same game.

Relabel landmark k as landmark sigma[k], everywhere at once: where the world keeps it, where each role's
observation lists it (its place, its colour, the word that names it) and which word a speaker says for it. A
team that plays the relabelled game with relabelled actions gets the same rewards, step by step;
`prove_symmetry` plays that out on a game's batched core and refuses a declared relabelling that is not one.

Other-Play (Hu et al., ICML 2020) trains partners that see the game through a random symmetry (league.grpo,
`other_play`): a code that pairs word j with landmark k != j does not survive relabelling, so the one code left
is word k = landmark k, the one a person guesses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from games.turns import uniform_moves


@dataclass(frozen=True)
class LandmarkLayout:
    """Where one role's observation and actions name the landmarks (declared per role by a game)."""

    blocks: tuple[tuple[int, int], ...] = ()
    """(first index, width) of each run of L consecutive blocks, one per landmark in landmark order: a
    landmark's place (width 2), its colour channel or the channel of the word that names it (width 1)."""
    words: bool = False
    """Whether the role's words 0..L-1 name landmarks 0..L-1 (a speaker); its other words stay as they are."""
    moves: int = 0
    """0: the action is the word; above 0 an action is `move + moves * word` (simple_reference)."""


@dataclass(frozen=True)
class Symmetry:
    """One relabelling sigma of the L landmarks, as the maps a rollout applies."""

    landmarks: tuple[int, ...]
    """sigma: landmark k is relabelled landmark sigma[k]."""
    obs: dict[str, np.ndarray]
    """Role -> `(D,)` gather index: the relabelled observation is `obs[..., index]`."""
    actions: dict[str, np.ndarray]
    """Role -> `(A,)`: action a in the game is action `actions[role][a]` in the relabelled game."""

    def is_identity(self) -> bool:
        return self.landmarks == tuple(range(len(self.landmarks)))

    def validate(self, info: Any) -> Symmetry:
        """Raises SymmetryError unless every role has an observation map that reorders its observation and an
        action map that reorders its actions (what a game's own `symmetries_fn` returns is checked this way)."""
        for role in info.obs_dims:
            for kind, size, maps in (("observation", info.obs_dims[role], self.obs),
                                     ("action", info.n_actions[role], self.actions)):
                order = np.asarray(maps.get(role, ()))
                if order.shape != (size,) or not np.array_equal(np.sort(order), np.arange(size)):
                    raise SymmetryError(f"relabelling {self.landmarks}: the {kind} map of role {role!r} must reorder "
                                        f"its {size} {kind} entries, got {order.tolist()[:12]}")
        return self

    def table(self, roles: Sequence[str], width: int) -> np.ndarray:
        """`(n, width)` gather index for a batch whose seats have these roles and whose observations are padded
        to `width` (padding stays where it is)."""
        out = np.tile(np.arange(width), (len(roles), 1))
        for i, role in enumerate(roles):
            out[i, : len(self.obs[role])] = self.obs[role]
        return out


def relabelling(sigma: Sequence[int], layouts: dict[str, LandmarkLayout], obs_dims: dict[str, int],
                n_actions: dict[str, int]) -> Symmetry:
    """The observation and action maps of landmark relabelling `sigma` for each role's layout."""
    sigma = tuple(int(k) for k in sigma)
    L = len(sigma)
    obs, actions = {}, {}
    for role, dim in obs_dims.items():
        layout = layouts.get(role, LandmarkLayout())
        index = np.arange(dim)
        for first, width in layout.blocks:
            for k in range(L):  # what was landmark k's block is now landmark sigma[k]'s
                index[first + sigma[k] * width: first + (sigma[k] + 1) * width] = np.arange(first + k * width,
                                                                                         first + (k + 1) * width)
        obs[role] = index
        action = np.arange(n_actions[role])
        if layout.words:
            per_word = layout.moves or 1  # action = move + per_word * word (no moves: the action is the word)
            move, word = action % per_word, action // per_word
            action = move + per_word * np.array([sigma[w] if w < L else w for w in word])
        actions[role] = action
    return Symmetry(sigma, obs, actions)


def landmark_symmetries(landmarks: int, layouts: dict[str, LandmarkLayout], info: Any) -> list[Symmetry]:
    """Every relabelling of `landmarks` landmarks (the identity first); past 5 landmarks (120 relabellings)
    the cyclic shifts only, which are symmetries too."""
    if landmarks <= 5:
        sigmas = list(itertools.permutations(range(landmarks)))
    else:
        sigmas = [tuple((k + shift) % landmarks for k in range(landmarks)) for shift in range(landmarks)]
    return [relabelling(sigma, layouts, info.obs_dims, info.n_actions) for sigma in sigmas]


def proven_symmetries(spec: Any, **kwargs: Any) -> list[Symmetry]:
    """The game's declared symmetries, each proven by `prove_symmetry` (once per game and options in a process): what
    Other-Play trains with. Raises SymmetryError for the first that is not a symmetry."""
    key = (spec.name, id(spec), repr(sorted(spec.resolve_kwargs(kwargs).items())))
    if key not in _CHECKED:
        symmetries = spec.symmetries(**kwargs)
        for symmetry in symmetries:
            prove_symmetry(spec, symmetry, **kwargs)
        _CHECKED[key] = symmetries
    return _CHECKED[key]


_CHECKED: dict[tuple[str, int, str], list[Any]] = {}


class SymmetryError(ValueError):
    """A declared relabelling that is not a symmetry of the game, or one that cannot be checked."""


def prove_symmetry(spec: Any, symmetry: Symmetry, seeds: Sequence[int] = range(16), seed: int = 0,
          **kwargs: Any) -> float:
    """Plays whole episodes twice on the game's batched core, from the same seeds: as drawn with random actions,
    and with the world's landmarks relabelled (`batch.relabel(sigma)`, which returns the new observations) and
    the same actions relabelled. The second must see the relabelled observations and get the same rewards at
    every step; raises SymmetryError at the first difference. Returns the mean team return (equal in both)."""
    info = spec.info(**kwargs)
    plain, relabelled = spec.batch(len(seeds), **kwargs), spec.batch(len(seeds), **kwargs)
    if not hasattr(relabelled, "relabel"):
        raise SymmetryError(f"{spec.name}: its batched core has no `relabel(sigma)`, so its symmetries cannot be "
                            "checked")
    roles = [info.role_of(a) for a in info.agents]
    index = symmetry.table(roles, plain.obs_dim)  # (n, D)
    rng = np.random.default_rng(seed)
    team = np.zeros(len(seeds))
    obs_a = plain.reset(list(seeds))
    relabelled.reset(list(seeds))
    obs_b = relabelled.relabel(symmetry.landmarks)
    for t in range(info.horizon + 1):
        expected = np.take_along_axis(obs_a, np.broadcast_to(index, obs_a.shape), axis=-1)
        if not np.allclose(obs_b, expected, rtol=1e-5, atol=1e-6):
            raise SymmetryError(f"{spec.name}: relabelling the landmarks {symmetry.landmarks} is not a symmetry: "
                                f"the observations differ at step {t}")
        if plain.done.all():
            break
        if info.masks:  # legal moves only
            acts = uniform_moves(rng, obs_a, info)
        else:
            acts = np.stack([rng.integers(0, info.n_actions[r], len(seeds)) for r in roles], axis=1)  # (B, n)
        mapped = np.stack([symmetry.actions[r][acts[:, i]] for i, r in enumerate(roles)], axis=1)
        obs_a, rew_a, _ = plain.step(acts)
        try:
            obs_b, rew_b, _ = relabelled.step(mapped)
        except ValueError as e:  # a core refuses an illegal move: the relabelled move is not legal there
            raise SymmetryError(f"{spec.name}: relabelling {symmetry.landmarks} is not a symmetry: a relabelled "
                                f"move is not legal at step {t + 1} ({e})") from None
        if not np.allclose(rew_a, rew_b, rtol=1e-5, atol=1e-6):
            raise SymmetryError(f"{spec.name}: relabelling the landmarks {symmetry.landmarks} is not a symmetry: "
                                f"the rewards differ at step {t + 1}")
        team += spec.team_reward(rew_a)
    plain.close()
    relabelled.close()
    return float(team.mean())
