"""Bradley-Terry Elo: recovers known ratings within intervals, is anchored, order-free, counts draws half."""

import random
import time

import numpy as np
import pytest

from league.ratings import ANCHOR_ELO, expected_score, fit_ratings, synthetic_results


def named(results):
    return [("random" if a == "p0" else a, "random" if b == "p0" else b, s) for a, b, s in results]


def test_recovers_known_ratings_within_intervals():
    true = np.array([1000.0, 1250.0, 800.0, 1500.0, 1100.0, 950.0])
    ratings = {r.player: r for r in fit_ratings(named(synthetic_results(true, 20_000, seed=7)))}
    for i, elo in enumerate(true):
        r = ratings["random" if i == 0 else f"p{i}"]
        assert abs(r.elo - elo) <= r.interval, (i, r, elo)
        assert i == 0 or 5 < r.interval < 40
    assert ratings["random"].elo == ANCHOR_ELO and ratings["random"].interval == 0


def test_many_players_cover_their_intervals():
    rng = np.random.default_rng(3)
    true = rng.normal(1000, 150, 200)
    true[0] = 1000
    ratings = {r.player: r for r in fit_ratings(named(synthetic_results(true, 40_000, seed=4)))}
    inside = [abs(ratings[f"p{i}"].elo - true[i]) <= ratings[f"p{i}"].interval for i in range(1, 200)]
    assert np.mean(inside) >= 0.9


def test_order_of_results_does_not_matter():
    results = named(synthetic_results([1000, 1200, 900], 3000, seed=1))
    shuffled = results[:]
    random.Random(0).shuffle(shuffled)
    a = {r.player: r.elo for r in fit_ratings(results)}
    b = {r.player: r.elo for r in fit_ratings(shuffled)}
    assert a.keys() == b.keys() and all(a[k] == pytest.approx(b[k], abs=1e-6) for k in a)


def test_draws_count_half_and_undefeated_players_stay_finite():
    draws = [("x", "y", 0.5)] * 50
    ratings = {r.player: r for r in fit_ratings(draws)}
    assert ratings["x"].elo == pytest.approx(ratings["y"].elo) and ratings["x"].score == 0.5
    sweep = [("champ", "random", 1.0)] * 20 + [("random", "mid", 0.5)] * 20
    ratings = {r.player: r for r in fit_ratings(sweep)}
    assert np.isfinite(ratings["champ"].elo) and ratings["champ"].elo > ratings["mid"].elo + 200
    assert ratings["mid"].elo == pytest.approx(ANCHOR_ELO, abs=15.0)  # only draws with random; the prior moves it a little


def test_without_random_the_mean_is_anchored():
    ratings = fit_ratings([("a", "b", 1.0), ("b", "a", 0.0), ("a", "b", 0.5)])
    assert np.mean([r.elo for r in ratings]) == pytest.approx(ANCHOR_ELO)
    assert fit_ratings([]) == []


def test_fit_scales_to_a_thousand_players():
    rng = np.random.default_rng(0)
    results = named(synthetic_results(rng.normal(1000, 200, 1000), 100_000, seed=5))
    start = time.perf_counter()
    ratings = fit_ratings(results)
    assert len(ratings) == 1000
    # generous bound for slow CI machines; `league bench ratings` reports the real figure
    assert time.perf_counter() - start < 20


# -- a slow, straightforward reference: the same model fitted by Hunter's MM updates, no shortcuts --------------

def reference_fit(results, iterations=200_000, tolerance=1e-13):
    """-> {player: (elo, interval)}: MM iterations to convergence, the Hessian by finite differences."""
    names = sorted({a for a, _, _ in results} | {b for _, b, _ in results})
    index = {name: i for i, name in enumerate(names)}
    a = np.array([index[r[0]] for r in results])
    b = np.array([index[r[1]] for r in results])
    s = np.array([r[2] for r in results], dtype=float)
    n = len(names)
    points = np.bincount(a, weights=s, minlength=n) + np.bincount(b, weights=1 - s, minlength=n)
    gamma = np.ones(n)
    for _ in range(iterations):  # gamma_i <- (W_i + 1/2) / (sum over games 1/(gamma_i + gamma_opp) + 1/(gamma_i + 1))
        inv = 1.0 / (gamma[a] + gamma[b])
        new = (points + 0.5) / (np.bincount(a, weights=inv, minlength=n) + np.bincount(b, weights=inv, minlength=n)
                                + 1.0 / (gamma + 1.0))
        done = np.abs(np.log(new / gamma)).max() < tolerance
        gamma = new
        if done:
            break
    theta = np.log(gamma)
    hessian = np.array([(gradient(theta + h, a, b, s) - gradient(theta - h, a, b, s)) / 2e-5
                        for h in 1e-5 * np.eye(n)])
    cov = np.linalg.inv(-hessian)
    anchor = index["random"]
    var = np.diag(cov) + cov[anchor, anchor] - 2 * cov[:, anchor]
    elo = ANCHOR_ELO + 400 / np.log(10) * (theta - theta[anchor])
    half = 1.96 * 400 / np.log(10) * np.sqrt(var)
    return {name: (elo[i], half[i]) for i, name in enumerate(names)}


def gradient(theta, a, b, s):
    """Gradient of the log-likelihood, the prior's virtual draw against log-strength 0 included."""
    p = 1.0 / (1.0 + np.exp(theta[b] - theta[a]))
    n = len(theta)
    return (np.bincount(a, weights=s - p, minlength=n) + np.bincount(b, weights=p - s, minlength=n)
            + 0.5 - 1.0 / (1.0 + np.exp(-theta)))


def gradient_at(results, ratings):
    """Largest gradient entry at fitted ratings; the prior fixes the shift that the anchoring removed."""
    elo = {r.player: r.elo for r in ratings}
    names = sorted(elo)
    index = {name: i for i, name in enumerate(names)}
    a = np.array([index[r[0]] for r in results])
    b = np.array([index[r[1]] for r in results])
    s = np.array([r[2] for r in results], dtype=float)
    theta = np.array([elo[name] for name in names]) * np.log(10) / 400
    low, high = -100.0, 100.0
    for _ in range(200):  # the gradient's sum falls as the shift rises: bisect for where it is zero
        mid = (low + high) / 2
        low, high = (mid, high) if gradient(theta - mid, a, b, s).sum() < 0 else (low, mid)
    return np.abs(gradient(theta - (low + high) / 2, a, b, s)).max()


def test_more_players_than_a_fit_can_hold_are_refused_before_allocating():
    """Before: 100,000 players asked for a 75 GB dense matrix (numpy's ArrayMemoryError)."""
    from league.ratings import MAX_RATED_PLAYERS, RatingError

    rows = [(f"p{i}", f"p{i + 1}", 1.0) for i in range(MAX_RATED_PLAYERS)]  # MAX_RATED_PLAYERS + 1 players
    with pytest.raises(RatingError, match="5,001 players to rate, above the limit of 5,000"):
        fit_ratings(rows)


def test_equals_a_straightforward_reference_fit():
    rng = np.random.default_rng(11)
    true = rng.normal(1000, 250, 25)
    true[0] = 1000
    results = named(synthetic_results(true, 3000, draw_margin=0.2, seed=12))
    reference = reference_fit(results)
    ratings = fit_ratings(results)
    assert {r.player for r in ratings} == reference.keys()
    for r in ratings:
        elo, half = reference[r.player]
        assert r.elo == pytest.approx(elo, abs=0.01), r
        assert r.interval == pytest.approx(half, abs=0.01), r
    assert gradient_at(results, ratings) < 1e-6


def test_converges_on_a_long_ladder():
    """Each generation only meets the few before it and the baselines: slow for MM (10,000 iterations left
    ratings 1.4 Elo off here), a handful of steps for Newton."""
    rng = np.random.default_rng(1)
    true = {"random": 1000.0, "scripted": 1900.0} | {f"g{k}": 900 + 150 * k + rng.normal(0, 30) for k in range(100)}
    results = []
    for k in range(100):
        for other in ["random", "scripted"] + [f"g{j}" for j in range(max(0, k - 5), k)]:
            p = expected_score(true[f"g{k}"], true[other])
            results += [(f"g{k}", other, 1.0 if u < p - 0.05 else 0.5 if u < p + 0.05 else 0.0) for u in rng.random(16)]
    ratings = fit_ratings(results)
    assert gradient_at(results, ratings) < 1e-6
    assert all(np.isfinite(r.elo) and np.isfinite(r.interval) for r in ratings)


def test_unbeaten_draw_only_and_disconnected_players_stay_finite():
    results = ([("champ", "random", 1.0)] * 30 + [("random", "drawer", 0.5)] * 20 + [("loser", "drawer", 0.0)] * 25
               + [("x", "y", 0.5)] * 10 + [("streak", "victim", 1.0)] * 40
               + [("mid", "random", 1.0), ("random", "mid", 1.0)])
    ratings = {r.player: r for r in fit_ratings(results)}
    assert all(np.isfinite(r.elo) and np.isfinite(r.interval) and r.interval >= 0 for r in ratings.values())
    assert ratings["random"].elo == ANCHOR_ELO and ratings["random"].interval == 0
    assert ratings["champ"].elo > ANCHOR_ELO + 300 and ratings["loser"].elo < ratings["drawer"].elo - 300
    assert ratings["x"].elo == pytest.approx(ratings["y"].elo, abs=1e-6)
    assert ratings["streak"].elo > ratings["victim"].elo + 300
    # x, y, streak and victim never met anyone connected to random: only the prior places them
    assert ratings["x"].interval > ratings["mid"].interval and ratings["streak"].interval > ratings["mid"].interval
    assert gradient_at(results, list(ratings.values())) < 1e-6
    reference = reference_fit(results)
    assert all(r.elo == pytest.approx(reference[r.player][0], abs=0.1) for r in ratings.values())
