"""The compiled inner loops of `games.hanabi_core.HanabiBatch`: one turn, the legal moves and the observations of
B games, a game at a time (numba), on the batch's own state arrays.

Why compiled: a Hanabi turn touches a few dozen numbers per game, but its observation has 658 per player in a
dozen sections; in numpy each section is several whole-batch passes and the batch spent its time there (8.5x
the env). Written as loops over one game's cards these are a few hundred stores per game. The rules and the
encoding are those of `games.hanabi_core` (its docstring), and `tests/test_hanabi.py` proves the batch equal to
the env over whole games.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PLAY, DISCARD, REVEAL_COLOR, REVEAL_RANK = 0, 1, 2, 3


@njit(cache=True)
def legal_moves(hand, information, current, done, P, H, C, R, max_information, legal):  # pragma: no cover
    """Writes `legal` `(B, A)` bool: the moves of each game's player to move (none in an ended game)."""
    B = hand.shape[0]
    legal[:] = False
    for b in range(B):
        if done[b]:
            continue
        me = current[b]
        for j in range(H):
            if hand[b, me, j] >= 0:
                legal[b, H + j] = True
                if information[b] < max_information:
                    legal[b, j] = True
        if information[b] <= 0:
            continue
        for o in range(1, P):
            target = (me + o) % P
            for j in range(H):
                card = hand[b, target, j]
                if card >= 0:
                    legal[b, 2 * H + (o - 1) * C + card // R] = True
                    legal[b, 2 * H + (P - 1) * C + (o - 1) * R + card % R] = True


@njit(cache=True)
def _remove(b, p, pos, hand, color_possible, rank_possible, color_hinted, rank_hinted, H):  # pragma: no cover
    """The card at `pos` leaves player p's hand; the later cards (and what is known of them) move up."""
    for j in range(pos, H - 1):
        hand[b, p, j] = hand[b, p, j + 1]
        color_possible[b, p, j] = color_possible[b, p, j + 1]
        rank_possible[b, p, j] = rank_possible[b, p, j + 1]
        color_hinted[b, p, j] = color_hinted[b, p, j + 1]
        rank_hinted[b, p, j] = rank_hinted[b, p, j + 1]
    hand[b, p, H - 1] = -1
    color_possible[b, p, H - 1] = True
    rank_possible[b, p, H - 1] = True
    color_hinted[b, p, H - 1] = -1
    rank_hinted[b, p, H - 1] = -1


@njit(cache=True)
def step(rows, moves, order, drawn, hand, color_possible, rank_possible, color_hinted, rank_hinted, fireworks,
         information, life, discarded, turns_left, length, current, score, done, last, last_revealed, last_scored,
         last_token, P, H, C, R, deck_size, max_information, max_game_length, rewards):  # pragma: no cover
    """One turn of each game in `rows` (legal moves `moves`, one per row); writes `rewards` `(B,)` and `done`.
    `last` `(B, 7)`: who, type, target, colour, rank, position, card of the last move (-1: none)."""
    for i in range(rows.shape[0]):
        b, move = rows[i], moves[i]
        me = current[b]
        if drawn[b] >= deck_size:
            turns_left[b] -= 1
        last[b, :] = -1
        last[b, 0] = me
        last_revealed[b, :] = False
        last_scored[b], last_token[b] = False, False
        drew = False
        if move < 2 * H:  # play or discard: the card leaves the hand, the next card of the deck comes last
            pos = move % H
            plays = move >= H
            card = hand[b, me, pos]
            color, rank = card // R, card % R
            fits = plays and fireworks[b, color] == rank
            if fits:
                fireworks[b, color] += 1
            complete = fits and rank == R - 1 and information[b] < max_information
            token = (not plays) or complete
            if token:
                information[b] += 1
            if plays and not fits:
                life[b] -= 1
            if not fits:
                discarded[b, card] += 1
            last[b, 1] = PLAY if plays else DISCARD
            last[b, 5], last[b, 6] = pos, card
            last_scored[b], last_token[b] = fits, token
            _remove(b, me, pos, hand, color_possible, rank_possible, color_hinted, rank_hinted, H)
            if drawn[b] < deck_size:
                slot = 0
                while slot < H and hand[b, me, slot] >= 0:
                    slot += 1
                hand[b, me, slot] = order[b, drawn[b]]
                drawn[b] += 1
                drew = True
        else:  # a hint: every card of the colour (rank) named is marked, the others lose that colour (rank)
            k = move - 2 * H
            is_color = k < (P - 1) * C
            if is_color:
                offset, value = k // C + 1, k % C
            else:
                offset, value = (k - (P - 1) * C) // R + 1, (k - (P - 1) * C) % R
            target = (me + offset) % P
            information[b] -= 1
            for j in range(H):
                card = hand[b, target, j]
                if card < 0:
                    continue
                if is_color:
                    if card // R == value:
                        color_possible[b, target, j, :] = False
                        color_possible[b, target, j, value] = True
                        color_hinted[b, target, j] = value
                        last_revealed[b, j] = True
                    else:
                        color_possible[b, target, j, value] = False
                else:
                    if card % R == value:
                        rank_possible[b, target, j, :] = False
                        rank_possible[b, target, j, value] = True
                        rank_hinted[b, target, j] = value
                        last_revealed[b, j] = True
                    else:
                        rank_possible[b, target, j, value] = False
            last[b, 1] = REVEAL_COLOR if is_color else REVEAL_RANK
            last[b, 2] = target
            if is_color:
                last[b, 3] = value
            else:
                last[b, 4] = value
        total = 0
        for c in range(C):
            total += fireworks[b, c]
        before = score[b]
        score[b] = total if life[b] > 0 else 0
        length[b] += 2 if drew else 1
        rewards[b] = score[b] - before
        current[b] = (me + 1) % P
        if life[b] <= 0 or total >= C * R or turns_left[b] <= 0 or length[b] > max_game_length:
            done[b] = True


@njit(cache=True)
def observe(rows, hand, drawn, fireworks, information, life, discarded, last, last_revealed, last_scored,
            last_token, color_possible, rank_possible, color_hinted, rank_hinted, current, legal, copies_start,
            sections, P, H, C, R, deck_size, max_information, max_life, obs):  # pragma: no cover
    """Writes the canonical observation and the mask of every player of each game in `rows` into `obs`
    `(B, P, D)` (zeros on entry). `sections`: the starts of missing, deck, fireworks, information, life,
    discards, last move, knowledge, and the mask (`Layout`)."""
    K = C * R
    missing, deck, fire_at, info_at, life_at, discards_at, last_at, knowledge, mask_at = (
        sections[0], sections[1], sections[2], sections[3], sections[4], sections[5], sections[6], sections[7],
        sections[8])
    card_bits = K + C + R
    possible = np.empty(K, dtype=np.int64)
    for i in range(rows.shape[0]):
        b = rows[i]
        left = deck_size - drawn[b]
        for q in range(P):
            o = obs[b, q]
            for k in range(1, P):  # the other hands
                p = (q + k) % P
                for j in range(H):
                    card = hand[b, p, j]
                    if card >= 0:
                        o[((k - 1) * H + j) * K + card] = 1.0
            for k in range(P):  # who misses a card
                p = (q + k) % P
                if hand[b, p, H - 1] < 0:
                    o[missing + k] = 1.0
            for t in range(left):
                o[deck + t] = 1.0
            for c in range(C):
                if fireworks[b, c] > 0:
                    o[fire_at + c * R + fireworks[b, c] - 1] = 1.0
            for t in range(information[b]):
                o[info_at + t] = 1.0
            for t in range(life[b]):
                o[life_at + t] = 1.0
            for kind in range(K):
                for t in range(discarded[b, kind]):
                    o[discards_at + copies_start[kind] + t] = 1.0
            who = last[b, 0]
            if who >= 0:  # the last move
                kind = last[b, 1]
                at = last_at
                o[at + (who - q) % P] = 1.0
                at += P
                o[at + kind] = 1.0
                at += 4
                hint = kind >= REVEAL_COLOR
                if hint:
                    o[at + (last[b, 2] - q) % P] = 1.0
                at += P
                if kind == REVEAL_COLOR:
                    o[at + last[b, 3]] = 1.0
                at += C
                if kind == REVEAL_RANK:
                    o[at + last[b, 4]] = 1.0
                at += R
                if hint:
                    for j in range(H):
                        if last_revealed[b, j]:
                            o[at + j] = 1.0
                at += H
                if not hint:
                    o[at + last[b, 5]] = 1.0
                at += H
                if not hint:
                    o[at + last[b, 6]] = 1.0
                at += K
                if kind == PLAY:
                    if last_scored[b]:
                        o[at] = 1.0
                    if last_token[b]:
                        o[at + 1] = 1.0
        for p in range(P):  # what the hints said of every card: worked out once, written for every observer
            for j in range(H):
                if hand[b, p, j] < 0:
                    continue
                n = 0
                for c in range(C):
                    if color_possible[b, p, j, c]:
                        for r in range(R):
                            if rank_possible[b, p, j, r]:
                                possible[n] = c * R + r
                                n += 1
                for q in range(P):
                    at = knowledge + (((p - q) % P) * H + j) * card_bits
                    o = obs[b, q]
                    for t in range(n):
                        o[at + possible[t]] = 1.0
                    if color_hinted[b, p, j] >= 0:
                        o[at + K + color_hinted[b, p, j]] = 1.0
                    if rank_hinted[b, p, j] >= 0:
                        o[at + K + C + rank_hinted[b, p, j]] = 1.0
        me = current[b]
        for a in range(legal.shape[1]):
            if legal[b, a]:
                obs[b, me, mask_at + a] = 1.0


@njit(cache=True)
def deal(uniforms, copies, order):  # pragma: no cover
    """Writes `order` `(S, D)`: each seed's deck, draw by draw as numpy's `Generator.choice(kinds, p=counts / left)`
    computes it from the draw's uniform `uniforms` `(S, D)`: p as float64 quotients, their running sum, divided
    by its last entry, and the first kind whose sum exceeds the uniform. The same operations in the same order
    give the same floats, so the same cards."""
    S, D = uniforms.shape
    K = copies.shape[0]
    counts = np.empty(K, dtype=np.int64)
    cdf = np.empty(K, dtype=np.float64)
    for s in range(S):
        counts[:] = copies
        for k in range(D):
            left = D - k
            acc = 0.0
            for j in range(K):
                acc += counts[j] / left
                cdf[j] = acc
            last = cdf[K - 1]
            card = 0
            for j in range(K):
                if cdf[j] / last <= uniforms[s, k]:
                    card += 1
            order[s, k] = card
            counts[card] -= 1
