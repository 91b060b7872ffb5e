"""Hanabi's people-like partner styles: the ways people play Hanabi that a team trained with itself never meets.

Each is the cautious plan (`games.hanabi_plan.plan`: hints only for playable cards, plays only what it knows)
with one human habit:
- `saves_5s`: saves a 5. A 5 is the only card of its kind, so people hint "5" to a partner about to discard
  one (its oldest unhinted card), and never discard a card they know to be a 5 while another card would do.
  A team must read a rank hint on a card that is not playable as "keep it", not "play it".
- `risky`: takes a risky play on two clues. A card a hint named that is one of at most two kinds, one of them
  playable, is played (while more than one life is left): the 50/50 people take. A team must survive a
  partner who loses lives and wastes cards.
- `forgets`: forgets an old hint. What the hints said about one of its own cards is forgotten FORGET_TURNS
  turns after the card was last hinted: the card is then treated as unhinted (it may be discarded, it is no
  longer known to be playable). A team must not rely on a hint given long ago, nor give too few.

Every style is `(info, seed) -> a fresh policy` for one batch of games, as `GameSpec.styles` asks; they draw
nothing at random, so the seed is unused. `games.styles.partner_style` makes them beside the generic ones.
"""

from __future__ import annotations

import numpy as np

from games.hanabi_core import layout_of
from games.hanabi_plan import plan, removed_slot, view
from games.rollout import Policy
from games.spec import GameInfo
from games.styles import Style

FORGET_TURNS = 8
"""Turns (of the whole table: 4 of one's own in a 2-player game) after which a hint about one's card is
forgotten."""


def saves_fives(info: GameInfo, seed: int = 0) -> Policy:
    """The `saves_5s` style (module docstring)."""
    L = layout_of(info.options)
    return lambda obs, _=None: plan(view(obs, L), L, save_fives=True)


def risky(info: GameInfo, seed: int = 0) -> Policy:
    """The `risky` style (module docstring)."""
    L = layout_of(info.options)
    return lambda obs, _=None: plan(view(obs, L), L, risky=True)


class Forgetful(Style):
    """The `forgets` style: each seat keeps, for each card of its own, how many turns ago a hint last told it
    something about the card; past FORGET_TURNS it plays as if nobody had hinted the card.

    A card's hint is fresh when the last move was a hint that named it, or when what is known of it changed
    (a hint that named other cards ruled something out). When the seat plays or discards a card the later
    cards move up a slot, and their ages with them (`removed_slot`, read off the last move)."""

    def start(self, obs: np.ndarray) -> None:
        self.L = layout_of(self.info.options)
        B, P = obs.shape[:2]
        H, K = self.L.hand_size, self.L.kinds
        self.age = np.zeros((B, P, H), dtype=np.int64)  # turns since each own card was last hinted
        self.before = np.ones((B, P, H, K), dtype=bool)  # what was known of each own card last turn

    def act(self, obs: np.ndarray) -> np.ndarray:
        v = view(obs, self.L)
        H = self.L.hand_size
        mine = v.possible[:, :, 0]  # (B, P, H, K)
        if self.step:
            self.age += 1
            gone = removed_slot(v)  # (B, P)
            j = np.arange(H)
            src = np.where(gone[..., None] >= 0, np.minimum(j + (j >= gone[..., None]), H - 1), j)  # (B, P, H)
            self.age = np.take_along_axis(self.age, src, -1)
            self.before = np.take_along_axis(self.before, src[..., None], -2)
            new = (gone[..., None] >= 0) & (j == H - 1)  # the card just drawn: nothing known, nothing to forget
            self.age[new] = 0
            self.before[new] = mine[new]
        told = (v.last_target == 0)[..., None] & v.last_named  # (B, P, H): the last move hinted these of mine
        fresh = told | (mine != self.before).any(-1)
        self.age[fresh] = 0
        self.before = mine.copy()
        told_once = v.hinted[:, :, 0] | ~mine.all(-1)  # a hint named it or ruled something out
        self.forgotten = old = (self.age >= FORGET_TURNS) & v.held[:, :, 0] & told_once  # (B, P, H)
        v.possible[:, :, 0][old] = True
        v.hinted[:, :, 0][old] = False
        return plan(v, self.L)


STYLES = {"saves_5s": saves_fives, "risky": risky, "forgets": lambda info, seed=0: Forgetful(info)}
"""Hanabi's own partner styles, by name."""
