"""Elo ratings by Bradley-Terry maximum likelihood over *all* stored results, recomputed whenever asked.

Model: P(i beats j) = 1 / (1 + 10^((R_j - R_i) / 400)); a draw counts as half a win for each side (as in
BayesElo and Ordo). Unlike online Elo, the fit does not depend on the order results came in.

Fit: results are first summed into games and points per pair of players (one pass), then the log-likelihood
is maximized by Newton's method with a dense (n, n) information matrix, from a start refined by cheap per-player
sweeps (see `_newton`). Newton converges quadratically: a single dense step for a well-mixed league, a handful
for a ladder of generations, where the minorization-maximization updates (Hunter 2004) used before need
thousands to hundreds of thousands of passes (about 8,000 for 1,000 players and 100,000 results; 10,000 left a
100-generation ladder 1.4 Elo off). The O(n^3) inverse is cheap at the league's scale (about 0.1 s at
n = 1,000) and is needed for the intervals anyway.

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
MAX_RATED_PLAYERS = 5000
"""Most players one fit rates: its information matrix is dense (n x n); at 5,000 players the fit takes 7 s and
0.9 GB at its peak on a 2-core machine, at 100,000 it would need 80 GB per matrix.
`league.config.LeagueConfig.validate` keeps a league's generations within it."""
SWEEPS = 30  # at most this many cheap per-player Newton sweeps (all players at once) before full Newton


class RatingError(ValueError):
    """More players than one fit can rate; the message says how many and the limit."""


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


def fit_ratings(results: Iterable[tuple[str, str, float]], iterations: int = 100,
                tolerance: float = 1e-7) -> list[Rating]:
    """results: (player_a, player_b, score of a: 1 win, 0.5 draw, 0 loss) -> ratings, best first.

    iterations: most Newton steps (1-7 are typical); tolerance: stop after a step that moves no log-strength
    by more than this (1e-7 is 2e-5 Elo; Newton's convergence is quadratic, so what remains is far smaller)."""
    rows = list(results)
    if not rows:
        return []
    names = sorted({a for a, _, _ in rows} | {b for _, b, _ in rows})
    if len(names) > MAX_RATED_PLAYERS:
        raise RatingError(f"{len(names):,} players to rate, above the limit of {MAX_RATED_PLAYERS:,} (the fit's "
                          f"dense information matrix would take {len(names) ** 2 * 8 / 2**30:.1f} GiB)")
    index = {name: i for i, name in enumerate(names)}
    a = np.fromiter((index[r[0]] for r in rows), dtype=np.int64, count=len(rows))
    b = np.fromiter((index[r[1]] for r in rows), dtype=np.int64, count=len(rows))
    s = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
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

    if (pi == pj).any():  # a player against itself: counted in games and score, but no information
        other = pi != pj
        pi, pj, games_ij, wins_i = pi[other], pj[other], games_ij[other], wins_i[other]
        fit_points = np.bincount(pi, weights=wins_i, minlength=n) \
            + np.bincount(pj, weights=games_ij - wins_i, minlength=n)
        fit_played = np.bincount(pi, weights=games_ij, minlength=n) + np.bincount(pj, weights=games_ij, minlength=n)
    else:
        fit_points, fit_played = points, played
    theta, covariance = _newton(pi, pj, games_ij, wins_i, fit_points, fit_played, iterations, tolerance)
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


def _log_likelihood(theta: np.ndarray, pi: np.ndarray, pj: np.ndarray, games_ij: np.ndarray,
                    wins_i: np.ndarray) -> float:
    """Bradley-Terry log-likelihood (draws as half a win) plus the prior's virtual draw at log-strength 0."""
    a, b = theta[pi], theta[pj]
    pairs = (wins_i * a + (games_ij - wins_i) * b - games_ij * np.logaddexp(a, b)).sum()  # not `@`: BLAS threads
    prior = PRIOR_DRAWS * (0.5 * theta.sum() - np.logaddexp(theta, 0.0).sum())
    return float(pairs + prior)


def _newton(pi: np.ndarray, pj: np.ndarray, games_ij: np.ndarray, wins_i: np.ndarray, points: np.ndarray,
            played: np.ndarray, iterations: int, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Maximize the log-likelihood by Newton's method -> (log-strengths (n,), covariance (n, n)).

    The log-likelihood is strictly concave (the prior makes it so even for disconnected players), so Newton's
    method with a backtracking line search converges from anywhere. The start is each player's log-odds of its
    score, improved by cheap O(results) sweeps: every player moves to its own best log-strength against its
    opponents' current ones (one-variable Newton steps, all at once), then everyone shifts together to where the
    prior wants the mean (the one direction such sweeps are slow in). In a well-mixed league the sweeps alone
    converge, leaving a single O(n^3) step; in a ladder of generations they don't, and full Newton steps
    (dense solves) do the work. Once steps are small, the step is taken with the inverse information matrix
    itself, which then doubles as the covariance at (within `tolerance` of) the optimum."""
    n = len(points)
    start = np.log((points + PRIOR_DRAWS / 2) / (played - points + PRIOR_DRAWS / 2))
    theta, move = start, np.inf
    for _ in range(SWEEPS):
        p, q, gradient = _gradient(theta, pi, pj, games_ij, points)
        w = games_ij * p * (1 - p)
        curvature = np.bincount(pi, weights=w, minlength=n) + np.bincount(pj, weights=w, minlength=n) \
            + PRIOR_DRAWS * q * (1 - q)
        step = np.clip(gradient / curvature, -1.0, 1.0)
        theta = theta + step
        for _ in range(2):  # sweeps are slow to move everyone together, which only the prior pins: Newton on that
            q = 1.0 / (1.0 + np.exp(-theta))
            theta = theta + (0.5 - q).sum() / (q * (1 - q)).sum()
        move = float(np.abs(step).max())
        if move < tolerance / 10:
            break
    ll = _log_likelihood(theta, pi, pj, games_ij, wins_i)
    start_ll = _log_likelihood(start, pi, pj, games_ij, wins_i)
    if not ll >= start_ll:  # the sweeps can oscillate (two players who only meet each other): keep the start
        theta, ll, move = start, start_ll, np.inf
    covariance = None
    near = move < tolerance / 10  # the sweeps converged: one Newton step with the inverse finishes
    size = np.inf
    for _ in range(iterations):
        p, q, gradient = _gradient(theta, pi, pj, games_ij, points)
        info = _information(pi, pj, games_ij, p, q)
        if near:
            covariance = np.linalg.inv(info)
            step = covariance @ gradient
        else:
            covariance = None
            step = np.linalg.solve(info, gradient)
        size = float(np.abs(step).max())
        decrement = float(gradient @ step)  # >= 0; a full step raises the log-likelihood by about half this
        # Below this the rise is lost in the rounding of the log-likelihood, and Newton's full step is safe.
        exact = decrement > 1e-9 * (1.0 + abs(ll))
        t = 1.0
        while True:
            new_ll = _log_likelihood(theta + t * step, pi, pj, games_ij, wins_i)
            if not exact or new_ll >= ll + 0.25 * t * decrement or t < 1e-12:  # Armijo's condition
                break
            t /= 2
        theta, ll = theta + t * step, new_ll
        if size < tolerance:
            break
        near = t == 1.0 and size < 1e-2  # then the next iterate is within about size^2 of the optimum
    if covariance is None or size >= tolerance:
        p, q, _ = _gradient(theta, pi, pj, games_ij, points)
        covariance = np.linalg.inv(_information(pi, pj, games_ij, p, q))
    return theta, covariance


def _gradient(theta: np.ndarray, pi: np.ndarray, pj: np.ndarray, games_ij: np.ndarray,
              points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> p (P,) P(pi beats pj), q (n,) P(beating the prior's virtual opponent at log-strength 0), and the
    gradient of the log-likelihood (n,): points won minus points expected, prior included."""
    n = len(theta)
    p = 1.0 / (1.0 + np.exp(theta[pj] - theta[pi]))
    q = 1.0 / (1.0 + np.exp(-theta))
    expected = np.bincount(pi, weights=games_ij * p, minlength=n) \
        + np.bincount(pj, weights=games_ij * (1 - p), minlength=n)
    return p, q, points - expected + PRIOR_DRAWS * (0.5 - q)


def _information(pi: np.ndarray, pj: np.ndarray, games_ij: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Negative Hessian of the log-likelihood (with the prior) in log-strength units, dense (n, n).
    p: (P,) P(pi beats pj); q: (n,) P(beating the prior's virtual opponent at log-strength 0)."""
    n = len(q)
    w = games_ij * p * (1 - p)
    info = np.zeros((n, n))
    info[pi, pj] = -w  # one row per unordered pair, so plain assignment suffices
    info[pj, pi] = -w
    diag = np.bincount(pi, weights=w, minlength=n) + np.bincount(pj, weights=w, minlength=n)
    info[np.arange(n), np.arange(n)] = diag + PRIOR_DRAWS * q * (1 - q)
    return info


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
