"""hanabi (PettingZoo classic `hanabi_v5`: OpenSpiel's Hanabi through Shimmy): the cooperative card game where
people and agents are tested as partners.

Agents: `player_0 .. player_{P-1}` (one role, `player`), one moving per step (turn-based, PettingZoo's AEC API).
Each player sees every hand but its own, the fireworks, the tokens, the discards, the last move, and what the
hints said about every card (OpenSpiel's canonical "card_knowledge" observation: `games.hanabi_core.Layout`
gives its sections); the league appends the legal-move mask (`games.turns`).
Actions: Discrete(2H + (P-1)(C+R)) = discard card 0..H-1, play card 0..H-1, then for each other player (the
next one first) hint one of its colours, then one of its ranks. 20 moves by default.
Reward: the change of the score (the sum of the fireworks, 0 once the lives are gone), the same for every
player; the team return is the final score, 0 to colours x ranks (25 by default).
Options (PettingZoo's defaults): colors=5, ranks=5, players=2, hand_size=5, max_information_tokens=8,
max_life_tokens=3, observation_type='card_knowledge', random_start_player=False.

Batched core: `games.hanabi_core.HanabiBatch`, B deals at once, for the card_knowledge observation with
player 0 to start (the other two options run on the generic runner). `tests/test_hanabi.py` proves it equal to
the env over whole games.

The scripted plan (`cautious`) plays only what it knows: play a card whose every possibility (by the hints) is
playable; else hint a partner's playable card that the partner does not know to be playable (the hint that
makes it known if one does, else its rank); else discard a card known to be useless, else the oldest card
nobody hinted, else the oldest. It never loses a life (`games.hanabi_plan`). Partner styles of the game's own:
saves_5s, risky, forgets (`games.hanabi_styles`).

A team scores each move from what it would do (declared as `Moves`: `league.moves.HanabiMoves`, the chance a
card is playable, what a hint would name and make known), so GRPO passes the cautious rule within minutes.

Version history: v1 (this project) wraps pettingzoo 1.27 `hanabi_v5`.
"""

from __future__ import annotations

import itertools
from dataclasses import fields
from typing import Any

from pettingzoo.classic import hanabi_v5

from games.hanabi_core import HanabiBatch, Layout, colour_maps, layout_of as layout
from games.hanabi_plan import cautious, view  # noqa: F401  (view: read by tests and the viewer)
from games.hanabi_styles import STYLES
from games.spec import GameInfo, GameSpec, Moves
from games.symmetry import Symmetry

OPTIONS: dict[str, Any] = {
    "colors": 5,
    "ranks": 5,
    "players": 2,
    "hand_size": 5,
    "max_information_tokens": 8,
    "max_life_tokens": 3,
    "observation_type": "card_knowledge",
    "random_start_player": False,
}


def make_batch(num_envs: int, **kwargs: Any) -> HanabiBatch | None:
    """The core for the card_knowledge observation with player 0 to start; None for the other two options."""
    if kwargs["observation_type"] != "card_knowledge" or kwargs["random_start_player"]:
        return None
    return HanabiBatch(num_envs, **{f.name: int(kwargs[f.name]) for f in fields(Layout)})


def most_turns(**kwargs: Any) -> int:
    """Every game ends by itself; this is the most turns one can last (`Layout.most_turns`: 97 by default)."""
    return layout(kwargs).most_turns


def check_options(**kwargs: Any) -> str | None:
    """OpenSpiel deals a colour to each player at most, and every hand must be dealt from the deck."""
    if kwargs["players"] > kwargs["colors"]:
        return f"{kwargs['players']} players need at least as many colours (colors={kwargs['colors']})"
    deck = layout(kwargs).deck_size
    if kwargs["players"] * kwargs["hand_size"] >= deck:
        return (f"{kwargs['players']} hands of {kwargs['hand_size']} cards need more than the deck's {deck} "
                f"cards")
    return None


def colour_relabellings(info: GameInfo, **kwargs: Any) -> list[Symmetry]:
    """Any renaming of the colours is the same game (Hu et al.'s Other-Play was introduced on it): all C! of
    them, the identity first (120 by default)."""
    L = layout(kwargs)
    out = []
    for sigma in itertools.permutations(range(L.colors)):
        index, actions = colour_maps(sigma, L)
        out.append(Symmetry(sigma, {"player": index}, {"player": actions}))
    return out


def move_features(**kwargs: Any) -> dict[str, Moves]:
    """Every player's moves are scored from what they would do (`league.moves.HanabiMoves`), for the canonical
    observation the batched core and the env give by default; the other observation types have none."""
    if kwargs["observation_type"] != "card_knowledge":
        return {}
    return {"player": Moves("hanabi", {f.name: int(kwargs[f.name]) for f in fields(Layout)})}


SPEC = GameSpec(
    name="hanabi",
    summary="the card game of hints: players who cannot see their own cards build fireworks together (PettingZoo)",
    env_fn=hanabi_v5.env,
    options=OPTIONS,
    option_limits={"colors": (2, 5), "ranks": (2, 5), "players": (2, 5), "hand_size": (2, 5),
                   "max_information_tokens": (0, 20), "max_life_tokens": (1, 10)},  # OpenSpiel's bounds; tokens: ours
    options_check=check_options,
    batch_core=make_batch,
    scripted=cautious,
    horizon=most_turns,
    symmetries_fn=colour_relabellings,
    targets_fn=move_features,
    styles=STYLES,
    # measured with `league bench learn --game hanabi --minutes 10` (docs/performance.md): chosen for the plain MLP
    # (a wider net, a steady lower rate and an entropy bonus kept exploring where the defaults settled on about 3);
    # with the score-moves network it reaches 19.5 in 10 minutes, 20.6 in an hour
    preset={"hidden": 256, "lr": 0.001, "lr_half_life": 0, "groups": 16, "group_size": 16, "gamma": 0.95,
            "entropy_coef": 0.01, "minibatch_size": 8192},
)
