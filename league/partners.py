"""Partner scores: how well a generation plays with partners it never trained with, people included.

A team trains with copies of itself (and maybe with a pool of partners, recorded in `generation_partners`), so
its agents may rely on conventions only they follow. Here a partner takes ONE seat, as a person does in
`league play`, and the team's policy fills the others. Every seat takes its turn: agents of a role share a
network but read their agent id, so a team may play well next to a person in seat 0 and badly in seat 2, and
a person may take any seat. The partners are:

- the hand-written styles of `games/styles.py` (slow, slips, stubborn, natural), which imitate people;
- held-out generations of the league's other teams: the newest trained generation of each other team that
  neither this generation nor its ancestors trained with. The newest, because it plays most unlike an
  untrained net, and one per team, so the cost grows with teams, not with the league's history.

The score with partner P puts the team between random and scripted play with that same partner in the same
seats, on the same held-out seeds (`league.evaluate.eval_seeds`):

    score(P) = (R(team + P) - R(random + P)) / (R(scripted + P) - R(random + P))

1.0: the team does with P what the scripted baseline does with P; 0.0: no better than random actions. It is
the ratio of the mean returns over seeds (each seed's return is the mean over seats), not a mean of per-seed
ratios: a seed on which scripted and random play happen to tie would divide by almost zero. Its 95% interval
is the delta method's: 1.96 standard errors of the per-seed residuals of the ratio,
`((T_s - R_s) - score * (S_s - R_s)) / mean(S - R)`. Where scripted play is not better than random with P by
more than that gap's own 95% interval, the score is undefined (None): dividing by it would be noise.

Episodes play on the game's batched core (parity-tested against PettingZoo) unless `reference_env=True`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

import games
from games.rollout import Policy, per_seat, rollout
from games.styles import partner_style, style_names
from games.vector import VectorBatch
from league.evaluate import eval_seeds, mean_interval, random_policy
from league.players import player_policy
from league.reports import leaderboard
from league.store import Store, StoreError

PartnerFactory = Callable[[int], Policy]
"""seed -> a fresh partner policy for one batch of episodes (styles keep state over their episodes)."""

PARTNER_SEED = 0
"""Seed of every partner and of the random baseline: the team, scripted and random runs meet the same slips."""
MIN_GAP = 1e-9
"""R(scripted + P) - R(random + P) at or below this leaves the score undefined."""


@dataclass
class PartnerScore:
    """How a team did with one partner, over every seat the partner took and every seed."""

    partner: str
    kind: str
    """'style' (games/styles.py) or 'generation' (another team's generation)."""
    seats: list[str]
    """The seats the partner took, one at a time."""
    episodes: int
    """Episodes per team (seeds x seats)."""
    team_return: float
    team_return_ci: float
    """Half-width of the 95% interval of the mean team return (over seeds)."""
    scripted_return: float | None
    """None: the game has no scripted plan, so no score."""
    random_return: float
    score: float | None
    """Normalized: 1.0 = the scripted baseline with this partner, 0.0 = random play with it; None: undefined."""
    score_ci: float | None
    seat_scores: list[tuple[float | None, float | None]] = field(default_factory=list)
    """(score, 95% half-width) with the partner in each seat alone, in `seats` order: a team may play well with
    a partner who speaks and badly with one who listens. Shown by `league partners`, not stored."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def seat_returns(game: str, game_kwargs: dict[str, Any], team: Policy, partner: Policy, seeds: Sequence[int],
                 reference_env: bool = False) -> np.ndarray:
    """Team return `(S, n)` of one episode per seed and seat, with `partner` in that one seat and `team` in
    all the others (every policy sees every observation; a seat takes only its owner's action)."""
    spec = games.get(game)
    info = spec.info(**game_kwargs)
    n, S = len(info.agents), len(seeds)
    partner_seat = np.repeat(np.eye(n, dtype=bool), S, axis=0)  # (n*S, n): episode k*S + s has P in seat k
    batch = VectorBatch(spec, n * S, **game_kwargs) if reference_env else spec.batch(n * S, **game_kwargs)

    def seated(obs: np.ndarray, info: Any) -> np.ndarray:
        ours = np.asarray(team(obs, info))  # (n*S, n), Box actions (n*S, n, d)
        return np.where(per_seat(partner_seat, ours), partner(obs, info), ours)

    try:
        returns = rollout(batch, list(seeds) * n, seated, info, spec.team_reward).returns  # (n*S,)
    finally:
        batch.close()
    return returns.reshape(n, S).T


def score_with_interval(team: np.ndarray, scripted: np.ndarray, random: np.ndarray) -> tuple[float | None, float | None]:
    """Score and 95% half-width from per-seed returns `(S,)` of the three teams with one partner: the ratio of
    mean gains over random, with the delta-method interval (see the module docstring). None where the scripted
    baseline's gain over random with this partner is not above its own 95% interval: a trained partner with a
    convention of its own can leave scripted play no better than random, and dividing by that gap is noise."""
    gain, scale = team - random, scripted - random  # (S,) each
    gap, gap_half = mean_interval(scale)
    if gap <= MIN_GAP or (len(scale) > 1 and gap <= gap_half):
        return None, None  # the scripted baseline is not surely better than random with this partner: no scale
    score = float(gain.mean() / scale.mean())
    _, half = mean_interval((gain - score * scale) / scale.mean())
    return score, half


def partner_scores(game: str, game_kwargs: dict[str, Any], team: Policy, partners: dict[str, PartnerFactory],
                   seeds: Sequence[int], reference_env: bool = False) -> list[PartnerScore]:
    """The team's score with each partner (name -> factory), the partner in each seat in turn.

    Partners named like a style of the game are of kind 'style', the others 'generation'. Each partner plays
    three batches, all from a fresh policy made with PARTNER_SEED: with `team`, with the scripted baseline
    and with random play (seeded PARTNER_SEED too). A game without a scripted plan has no scale: its team
    returns are reported, its scores are None."""
    spec = games.get(game)
    info = spec.info(**game_kwargs)
    scripted = spec.scripted
    if len(seeds) < 1:
        raise ValueError("partner scores need at least one seed")
    styles = set(style_names(spec))
    out = []
    for name, make in partners.items():
        by_seat, random_by_seat = (  # (S, n) each: the partner in seat k of column k
            seat_returns(game, game_kwargs, policy, make(PARTNER_SEED), seeds, reference_env)
            for policy in (team, random_policy(info, PARTNER_SEED)))
        with_team, with_random = by_seat.mean(axis=1), random_by_seat.mean(axis=1)  # (S,) the mean over seats
        mean, half = mean_interval(with_team)
        score = score_half = scripted_mean = None
        seat_scores: list[tuple[float | None, float | None]] = []
        if scripted is not None:
            scripted_by_seat = seat_returns(game, game_kwargs, scripted, make(PARTNER_SEED), seeds, reference_env)
            with_scripted = scripted_by_seat.mean(axis=1)
            score, score_half = score_with_interval(with_team, with_scripted, with_random)
            scripted_mean = float(with_scripted.mean())
            seat_scores = [score_with_interval(by_seat[:, k], scripted_by_seat[:, k], random_by_seat[:, k])
                           for k in range(by_seat.shape[1])]
        out.append(PartnerScore(name, "style" if name in styles else "generation", list(info.agents),
                                len(seeds) * len(info.agents), mean, half, scripted_mean,
                                float(with_random.mean()), score, score_half, seat_scores))
    return out


def partner_summary(scores: Sequence[PartnerScore | dict[str, Any]]) -> dict[str, Any]:
    """Mean score over the style partners and over the generation partners, each with its count (partners
    whose score is undefined are left out; None when there is none)."""
    rows = [s.to_dict() if isinstance(s, PartnerScore) else s for s in scores]
    summary: dict[str, Any] = {}
    for kind in ("style", "generation"):
        values = [r["score"] for r in rows if r["kind"] == kind and r["score"] is not None]
        summary[kind] = float(np.mean(values)) if values else None
        summary[f"{kind}_partners"] = len(values)
    return summary


# ---------------------------------------------------------------- the league's generations


def lineage(store: Store, generation: dict[str, Any]) -> list[dict[str, Any]]:
    """The generation and its ancestors, newest first."""
    chain = [generation]
    while chain[-1]["parent_id"] is not None:
        chain.append(store.generation(chain[-1]["parent_id"]))
    return chain


def training_partners(store: Store, generation: dict[str, Any]) -> set[str]:
    """Full names of every partner the generation or an ancestor trained with (`team/gN` made full)."""
    league = generation["league"]
    names = set()
    for g in lineage(store, generation):
        for name in store.generation_partners(g["id"]):
            names.add(f"{league}/{name}" if name.count("/") == 1 else name)
    return names


def held_out_generations(store: Store, generation: dict[str, Any]) -> list[dict[str, Any]]:
    """Per other team of the league, its newest trained generation (g1 on) that neither `generation` nor an
    ancestor trained with; teams with none are skipped."""
    seen = training_partners(store, generation)
    newest: dict[str, dict[str, Any]] = {}
    for g in store.generations(generation["league_id"]):  # oldest first within each team
        if g["team_id"] != generation["team_id"] and g["number"] >= 1 and g["name"] not in seen:
            newest[g["team"]] = g
    return [newest[team] for team in sorted(newest)]


def score_generation(store: Store, league: dict[str, Any], name: str, seeds: int = 32, only: Sequence[str] = (),
                     reference_env: bool = False) -> tuple[dict[str, Any], list[PartnerScore]]:
    """Scores generation `name` with every style and held-out generation (or only the partners named in
    `only`: styles or generations), stores the scores and returns (the generation, its scores)."""
    if not 2 <= seeds <= 10_000:
        raise ValueError(f"seeds must be between 2 and 10000 (an interval needs two), got {seeds}")
    game, kwargs = league["game"], league["game_kwargs"]
    generation = store.generation(name, league["name"])
    if generation["league_id"] != league["id"]:
        raise StoreError(f"{generation['name']} belongs to league {generation['league']!r}, not {league['name']!r}")
    spec = games.get(game)
    info = spec.info(**kwargs)
    if only:
        chosen_styles = [p for p in only if "/" not in p]
        chosen_generations = [store.generation(p, league["name"]) for p in only if "/" in p]
    else:
        chosen_styles, chosen_generations = style_names(spec), held_out_generations(store, generation)
    partners: dict[str, PartnerFactory] = {}
    for style in chosen_styles:
        partner_style(spec, style, info)  # an unknown style: GameError listing the known ones
        partners[style] = lambda seed, style=style: partner_style(spec, style, info, seed)
    trained_with = training_partners(store, generation)
    for g in chosen_generations:
        if g["league_id"] != league["id"] or g["team_id"] == generation["team_id"]:
            raise ValueError(f"{g['name']} is not a generation of another team of league {league['name']!r}")
        if g["name"] in trained_with:
            raise ValueError(f"{generation['name']} (or an ancestor) trained with {g['name']}: not held out")
        _, policy = player_policy(store, league, g["name"])
        partners[g["name"]] = lambda seed, policy=policy: policy
    _, team = player_policy(store, league, generation["name"])
    scores = partner_scores(game, kwargs, team, partners, eval_seeds(seeds), reference_env)
    store.add_partner_scores(generation["id"], [s.to_dict() for s in scores])
    return generation, scores


NATURAL_SCORE = 0.9
"""A generation whose score with the `natural` style reaches this plays the code a person guesses."""


def best_partner(store: Store, league: dict[str, Any]) -> tuple[str, str]:
    """The generation `league play` pairs a person with when none is given, and one line that says why: in a
    word game the best-scored with the `natural` style if one reaches NATURAL_SCORE (its code is the one a
    person guesses); else the best mean style-partner score stored; without any, the top-rated generation (the
    newest if none is rated yet)."""
    stored = store.league_partner_scores(league["id"])
    natural = [r for r in stored
               if r["partner"] == "natural" and r["score"] is not None and r["score"] >= NATURAL_SCORE]
    if natural:  # word games: a partner whose code a person guesses (word k names landmark k) comes first
        pick = max(natural, key=lambda r: (r["score"], r["generation"]))
        return pick["generation"], (f"playing with {pick['generation']}: its code is the natural one (word k names "
                                    f"landmark k; natural-style partner score {pick['score']:.2f})")
    best = store.best_partner_generation(league["id"])
    if best is not None:
        return best["name"], (f"playing with {best['name']}: the league's best partner score "
                              f"({best['partner_score']:.2f} over {best['styles']} partner styles)")
    generations = store.generations(league["id"])
    if not generations:
        raise StoreError(f"league {league['name']!r} has no generations yet: run `league train` first")
    names = {g["name"] for g in generations}
    rated = [r["player"] for r in leaderboard(store, league) if r["player"] in names]
    name = rated[0] if rated else max(generations, key=lambda g: (g["number"], g["id"]))["name"]
    why = "the top-rated generation" if rated else "the newest generation (none is rated yet)"
    if stored:  # scored, but no score is defined: scripted play is not surely better than random with them
        return name, (f"playing with {name}: {why}; the stored partner scores are undefined (the scripted team "
                      f"is not surely better than random with those partners)")
    return name, (f"playing with {name}: {why}; no partner scores yet, `league partners {name}` scores it")
