"""Tables and plots computed from stored results: leaderboard, cross-play matrix, training curves, exports.

Nothing here is stored: ratings and matrices are recomputed from the results every time (results are the
source of truth).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from league.ratings import fit_ratings
from league.store import Store


def leaderboard(store: Store, league: dict[str, Any]) -> list[dict[str, Any]]:
    """Rank, player, Elo, 95% interval, rated games and score %, best first."""
    ratings = fit_ratings(store.rated_results(league["id"]))
    return [{"rank": i + 1, "player": r.player, "elo": round(r.elo, 1), "interval": round(r.interval, 1),
             "games": int(r.games), "score": round(100 * r.score, 1)} for i, r in enumerate(ratings)]


def crossplay(store: Store, league: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    """Generation x partner matrix of mean team returns: cell (A, B) averages the mixed-team episodes where
    A's and B's agents played together (both seatings); the diagonal is A's own team in duplicate matches."""
    sums: dict[tuple[str, str], list[float]] = {}
    for row in store.mixed_results(league["id"]):
        a, b = row["name_a"], row["name_b"]
        sums.setdefault((a, b), []).append(row["team_return"])
        sums.setdefault((b, a), []).append(row["team_return"])
    for match in store.matches(league["id"], kind="duplicate"):
        for r in store.match(match["id"])["results"]:
            sums.setdefault((match["name_a"], match["name_a"]), []).append(r["return_a"])
            sums.setdefault((match["name_b"], match["name_b"]), []).append(r["return_b"])
    names = sorted({a for a, b in sums if a != b} | {b for a, b in sums if a != b})
    index = {n: i for i, n in enumerate(names)}
    matrix = np.full((len(names), len(names)), np.nan)
    for (a, b), values in sums.items():
        if a in index and b in index:
            matrix[index[a], index[b]] = float(np.mean(values))
    return names, matrix


def crossplay_ratio(names: list[str], matrix: np.ndarray, random_return: float) -> dict[str, Any] | None:
    """Cross-play against self-play for players of different teams (independent lineages, trained from other
    seeds), the zero-shot-coordination check of whether conventions are shared or private: `ratio` = (mean
    cross-play return - random) / (mean self-play return of the same pairs - random), 1.0 when two teams play
    together as well as each with itself, 0 when no better than random (returns may be negative, so the gains
    over random play are compared). None without a cell for two teams that both have a self-play return."""
    team = [name.split("/")[-2] if name.count("/") >= 1 else name for name in names]  # league/team/gN
    cross, own = [], []
    for i in range(len(names)):
        for j in range(len(names)):
            if team[i] != team[j] and not np.isnan(matrix[i, j]) and not np.isnan(matrix[i, i] + matrix[j, j]):
                cross.append(matrix[i, j])
                own.append((matrix[i, i] + matrix[j, j]) / 2)
    if not cross:
        return None
    xp, sp = float(np.mean(cross)), float(np.mean(own))
    ratio = (xp - random_return) / (sp - random_return) if sp - random_return > 1e-9 else None
    return {"pairs": len(cross), "cross_play": xp, "self_play": sp, "random": random_return, "ratio": ratio}


def partner_table(store: Store, league: dict[str, Any]) -> list[dict[str, Any]]:
    """Stored partner scores (`league partners`) of the league's generations, one row per (generation, partner)."""
    keys = ("generation", "partner", "kind", "episodes", "team_return", "team_return_ci", "score", "score_ci")
    return [{k: r[k] for k in keys} for r in store.league_partner_scores(league["id"])]


def results_rows(store: Store, league: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per played seed of every match (rated or not), for outside tools."""
    rows = []
    for match in reversed(store.matches(league["id"])):
        for r in store.match(match["id"])["results"]:
            rows.append({"match": match["id"], "kind": match["kind"], "player_a": match["name_a"],
                         "player_b": match["name_b"], **r})
    return rows


def export(store: Store, league: dict[str, Any], fmt: str, out_dir: str | Path) -> list[Path]:
    """Writes results and ratings: `results.csv` + `ratings.csv`, or one `<league>.json`. Returns the paths."""
    results, ratings = results_rows(store, league), leaderboard(store, league)  # read (and checked) before a write
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path = out / f"{league['name']}.json"
        path.write_text(json.dumps({"league": league["name"], "game": league["game"], "ratings": ratings,
                                    "results": results}, indent=2, allow_nan=False))
        return [path]
    paths = []
    for name, rows, fields in (("results", results, ["match", "kind", "player_a", "player_b", "seed", "return_a",
                                                      "return_b", "outcome"]),
                               ("ratings", ratings, ["rank", "player", "elo", "interval", "games", "score"])):
        path = out / f"{name}.csv"
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    return paths


def plot(store: Store, league: dict[str, Any], what: str, out: str | Path) -> Path:
    """Saves a PNG: `ratings` (Elo by generation per team, 95% intervals), `learning` (training return by
    env steps per team), `crossplay` (the generation x partner heatmap) or `partners` (the generation x
    never-met partner heatmap of stored partner scores)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    if what == "ratings":
        by_name = {r["player"]: r for r in leaderboard(store, league)}
        for team in store.teams(league["id"]):
            gens = [g for g in store.generations(league["id"], team["name"]) if g["name"] in by_name]
            ax.errorbar([g["number"] for g in gens], [by_name[g["name"]]["elo"] for g in gens],
                        yerr=[by_name[g["name"]]["interval"] for g in gens], marker="o", capsize=3,
                        label=team["name"])
        for baseline in ("random", "scripted"):
            if baseline in by_name:
                ax.axhline(by_name[baseline]["elo"], linestyle="--", color="grey")
                ax.text(0, by_name[baseline]["elo"], f" {baseline}", va="bottom", color="grey")
        ax.set(xlabel="generation", ylabel="Elo (95% interval)", title=f"{league['name']}: ratings")
        ax.legend()
    elif what == "learning":
        for team in store.teams(league["id"]):
            steps, returns, offset = [], [], 0
            for g in store.generations(league["id"], team["name"]):
                for m in store.training_metrics(g["id"]):
                    steps.append(offset + m["metrics"]["env_steps"])
                    returns.append(m["metrics"]["mean_return"])
                offset += g["train_steps"] or 0
            ax.plot(steps, returns, label=team["name"])
        ax.set(xlabel="environment steps", ylabel="mean team return (training rollouts)",
               title=f"{league['name']}: learning")
        ax.legend()
    elif what == "crossplay":
        names, matrix = crossplay(store, league)
        image = ax.imshow(matrix, cmap="viridis")
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set(xlabel="partner", ylabel="generation", title=f"{league['name']}: cross-play team return")
        fig.colorbar(image)
    elif what == "partners":
        rows = partner_table(store, league)
        if not rows:
            plt.close(fig)
            raise ValueError("no partner scores yet: run `league partners GENERATION` first")
        generations = sorted({r["generation"] for r in rows})
        partners = list(dict.fromkeys(r["partner"] for r in sorted(rows, key=lambda r: (r["kind"] != "style",
                                                                                     r["partner"]))))
        matrix = np.full((len(generations), len(partners)), np.nan)
        for r in rows:
            if r["score"] is not None:
                matrix[generations.index(r["generation"]), partners.index(r["partner"])] = r["score"]
        image = ax.imshow(matrix, cmap="viridis", aspect="auto")
        for (i, j), v in np.ndenumerate(matrix):
            if v == v:
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        bbox=dict(facecolor="white", alpha=0.7, linewidth=0))
        ax.set_xticks(range(len(partners)), partners, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(generations)), generations, fontsize=7)
        ax.set(xlabel="partner (never trained with)", ylabel="generation",
               title=f"{league['name']}: partner score (1 = scripted, 0 = random, same partner)")
        fig.colorbar(image)
    else:
        raise ValueError(f"unknown plot {what!r}; plots: ratings, learning, crossplay, partners")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
