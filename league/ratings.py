"""Elo ratings by Bradley-Terry maximum likelihood over *all* stored results, recomputed whenever asked.

Model: P(i beats j) = 1 / (1 + 10^((R_j - R_i) / 400)); a draw counts as half a win for each side (as in
BayesElo and Ordo). Unlike online Elo, the fit does not depend on the order results came in. Fitted by the
minorization-maximization algorithm of Hunter (2004, "MM algorithms for generalized Bradley-Terry models").

Prior: every player also has one virtual draw against a virtual player at the anchor; it keeps players who
never lost (or never won) finite and barely moves anyone with real games.
Anchor: the `random` baseline is fixed at 1000 Elo when it has played; otherwise the mean rating is 1000.
Intervals: 95% from the observed Fisher information (inverse Hessian of the log-likelihood), relative to the
anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

ANCHOR = "random"
ANCHOR_ELO = 1000.0
ELO_PER_NAT = 400.0 / np.log(10.0)  # Elo points per unit of log-strength
PRIOR_DRAWS = 1.0


@dataclass(frozen=True)
class Rating:
    """One player's fitted rating."""

    player: str
    elo: float
    interval: float
    """Half-width of the 95% interval, Elo points."""
    games: float
    """Rated results (seeds) played."""
    score: float
    """Share of points won (draws count half), 0..1."""


def fit_ratings(results: Iterable[tuple[str, str, float]], iterations: int = 10_000,
                tolerance: float = 1e-10) -> list[Rating]:
    """results: (player_a, player_b, score of a: 1 win, 0.5 draw, 0 loss) -> ratings, best first."""
    rows = list(results)
    if not rows:
        return []
    names = sorted({a for a, _, _ in rows} | {b for _, b, _ in rows})
    index = {name: i for i, name in enumerate(names)}
    a = np.array([index[r[0]] for r in rows])
    b = np.array([index[r[1]] for r in rows])
    s = np.array([float(r[2]) for r in rows])
    n = len(names)

    # Aggregate into one row per unordered pair: games n_ij and points w_ij of the lower index.
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    points_lo = np.where(a == lo, s, 1.0 - s)
    pair_key = lo * n + hi
    keys, inverse = np.unique(pair_key, return_inverse=True)
    pi, pj = keys // n, keys % n  # (P,)
    games_ij = np.bincount(inverse, minlength=len(keys)).astype(np.float64)  # (P,)
    wins_i = np.bincount(inverse, weights=points_lo, minlength=len(keys))  # (P,) points of pi against pj
    points = np.bincount(pi, weights=wins_i, minlength=n) + np.bincount(pj, weights=games_ij - wins_i, minlength=n)
    played = np.bincount(pi, weights=games_ij, minlength=n) + np.bincount(pj, weights=games_ij, minlength=n)

    # MM updates: gamma_i <- W_i / sum_j n_ij / (gamma_i + gamma_j); the prior adds a draw vs gamma = 1.
    gamma = np.ones(n)
    for _ in range(iterations):
        denom = games_ij / (gamma[pi] + gamma[pj])  # (P,)
        total = np.bincount(pi, weights=denom, minlength=n) + np.bincount(pj, weights=denom, minlength=n)
        total += PRIOR_DRAWS / (gamma + 1.0)
        new = (points + PRIOR_DRAWS / 2) / total  # the prior's fixed opponent also fixes the scale
        change = np.abs(np.log(new) - np.log(gamma)).max()
        gamma = new
        if change < tolerance:
            break
    theta = np.log(gamma)  # (n,) log-strengths

    covariance = _covariance(theta, pi, pj, games_ij)
    anchor = index.get(ANCHOR)
    if anchor is not None:
        shift = theta[anchor]
        var = np.diag(covariance) + covariance[anchor, anchor] - 2 * covariance[:, anchor]
    else:
        shift = theta.mean()
        var = np.diag(covariance)
    elo = ANCHOR_ELO + ELO_PER_NAT * (theta - shift)
    half = 1.96 * ELO_PER_NAT * np.sqrt(np.clip(var, 0.0, None))
    ratings = [Rating(names[i], float(elo[i]), float(half[i]), float(played[i]),
                      float(points[i] / played[i]) if played[i] else 0.0) for i in range(n)]
    return sorted(ratings, key=lambda r: -r.elo)


def _covariance(theta: np.ndarray, pi: np.ndarray, pj: np.ndarray, games_ij: np.ndarray) -> np.ndarray:
    """Inverse of the negative Hessian of the log-likelihood (with the prior) in log-strength units."""
    n = len(theta)
    p = 1.0 / (1.0 + np.exp(theta[pj] - theta[pi]))  # (P,) P(pi beats pj)
    w = games_ij * p * (1 - p)
    info = np.zeros((n, n))
    np.add.at(info, (pi, pj), -w)
    np.add.at(info, (pj, pi), -w)
    diag = np.bincount(pi, weights=w, minlength=n) + np.bincount(pj, weights=w, minlength=n)
    q = 1.0 / (1.0 + np.exp(-theta))  # the prior's virtual opponent sits at log-strength 0
    info[np.arange(n), np.arange(n)] = diag + PRIOR_DRAWS * q * (1 - q)
    return np.linalg.inv(info)


def expected_score(elo_a: float, elo_b: float) -> float:
    """The model's expected score of a against b."""
    return 1.0 / (1.0 + 10 ** ((elo_b - elo_a) / 400.0))


def synthetic_results(elos: Sequence[float], pairs: int, per_pair: int = 1, draw_margin: float = 0.0,
                      seed: int = 0) -> list[tuple[str, str, float]]:
    """Results drawn from known ratings (players 'p0', 'p1', ...): for tests and `league bench ratings`."""
    rng = np.random.default_rng(seed)
    elos = np.asarray(elos, dtype=np.float64)
    a = rng.integers(0, len(elos), pairs)
    b = (a + rng.integers(1, len(elos), pairs)) % len(elos)  # never a player against itself
    a, b = np.repeat(a, per_pair), np.repeat(b, per_pair)
    p = 1.0 / (1.0 + 10 ** ((elos[b] - elos[a]) / 400.0))
    u = rng.random(len(a))
    score = np.where(u < p - draw_margin / 2, 1.0, np.where(u < p + draw_margin / 2, 0.5, 0.0))
    return [(f"p{i}", f"p{j}", float(x)) for i, j, x in zip(a, b, score)]
