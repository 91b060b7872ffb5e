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
def _seat(x, P):  # pragma: no cover
    """x mod P for x in [-P, 2P): a seat counted round the table. `%` is an integer division, and these were a
    tenth of the observation kernel's time."""
    if x >= P:
        return x - P
    if x < 0:
        return x + P
    return x


@njit(cache=True)
def _legal_row(b, hand, information, current, P, H, C, R, max_information, legal):  # pragma: no cover
    """Writes `legal` `(A,)` bool: the moves of game b's player to move."""
    legal[:] = False
    me = current[b]
    for j in range(H):
        if hand[b, me, j] >= 0:
            legal[H + j] = True
            if information[b] < max_information:
                legal[j] = True
    if information[b] <= 0:
        return
    for o in range(1, P):
        target = _seat(me + o, P)
        for j in range(H):
            card = hand[b, target, j]
            if card >= 0:
                legal[2 * H + (o - 1) * C + card // R] = True
                legal[2 * H + (P - 1) * C + (o - 1) * R + card % R] = True


@njit(cache=True)
def legal_moves(hand, information, current, done, P, H, C, R, max_information, legal):  # pragma: no cover
    """Writes `legal` `(B, A)` bool: the moves of each game's player to move (none in an ended game)."""
    legal[:] = False
    for b in range(hand.shape[0]):
        if not done[b]:
            _legal_row(b, hand, information, current, P, H, C, R, max_information, legal[b])


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
def _hint(possible, hinted, j, value, named):  # pragma: no cover
    """What a hint of `value` (a colour or a rank) tells of card j: it is `value` when named, else it is not.
    `possible` `(values,)` of the card, `hinted` `(H,)` of its hand."""
    if named:
        possible[:] = False
        possible[value] = True
        hinted[j] = value
    else:
        possible[value] = False


@njit(cache=True)
def step(rows, moves, order, drawn, hand, color_possible, rank_possible, color_hinted, rank_hinted, fireworks,
         information, life, discarded, turns_left, length, current, score, done, last, last_revealed, last_scored,
         last_token, P, H, C, R, deck_size, max_information, max_game_length, rewards):  # pragma: no cover
    """One turn of each game in `rows` (legal moves `moves`, one per row); writes `rewards` `(B,)` and `done`.
    `last` `(B, 7)`: who, type, target, colour, rank, position, card of the last move (-1: none). Returns -1, or
    the first row whose move is not legal (then nothing was played)."""
    legal = np.empty(2 * H + (P - 1) * (C + R), dtype=np.bool_)
    for i in range(rows.shape[0]):
        _legal_row(rows[i], hand, information, current, P, H, C, R, max_information, legal)
        if moves[i] < 0 or moves[i] >= legal.shape[0] or not legal[moves[i]]:
            return i
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
            target = _seat(me + offset, P)
            information[b] -= 1
            for j in range(H):
                card = hand[b, target, j]
                if card < 0:
                    continue
                named = (card // R if is_color else card % R) == value
                if is_color:
                    _hint(color_possible[b, target, j], color_hinted[b, target], j, value, named)
                else:
                    _hint(rank_possible[b, target, j], rank_hinted[b, target], j, value, named)
                last_revealed[b, j] = named
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
        current[b] = _seat(me + 1, P)
        if life[b] <= 0 or total >= C * R or turns_left[b] <= 0 or length[b] > max_game_length:
            done[b] = True
    return -1


@njit(cache=True)
def observe(rows, stale, hand, drawn, fireworks, information, life, discarded, last, last_revealed, last_scored,
            last_token, color_possible, rank_possible, color_hinted, rank_hinted, current, copies_start, sections,
            P, H, C, R, deck_size, max_information, max_life, obs):  # pragma: no cover
    """Writes the canonical observation and the mask of every player of each game in `rows` into `obs`
    `(B, P, D)`, each game's zeroed first, and zeros the games in `stale` (written before, not now): the rest of
    `obs` must be zeros already. `sections`: the starts of missing, deck, fireworks, information,
    life, discards, last move, knowledge, and the mask (`Layout`). Indexed as `obs[b, q, i]` throughout: a view
    per player would cost numba a reference count each time (15% of the kernel's time)."""
    K = C * R
    missing, deck, fire_at, info_at, life_at, discards_at, last_at, knowledge, mask_at = (
        sections[0], sections[1], sections[2], sections[3], sections[4], sections[5], sections[6], sections[7],
        sections[8])
    card_bits = K + C + R
    possible = np.empty(K, dtype=np.int64)
    legal = np.empty(2 * H + (P - 1) * (C + R), dtype=np.bool_)
    D = obs.shape[2]
    for i in range(stale.shape[0]):
        for q in range(P):
            for a in range(D):
                obs[stale[i], q, a] = 0.0
    for i in range(rows.shape[0]):
        b = rows[i]
        for q in range(P):
            for a in range(D):
                obs[b, q, a] = 0.0
        left = deck_size - drawn[b]
        for q in range(P):
            for k in range(1, P):  # the other hands
                p = _seat(q + k, P)
                for j in range(H):
                    card = hand[b, p, j]
                    if card >= 0:
                        obs[b, q, ((k - 1) * H + j) * K + card] = 1.0
            for k in range(P):  # who misses a card
                if hand[b, _seat(q + k, P), H - 1] < 0:
                    obs[b, q, missing + k] = 1.0
            for t in range(left):
                obs[b, q, deck + t] = 1.0
            for c in range(C):
                if fireworks[b, c] > 0:
                    obs[b, q, fire_at + c * R + fireworks[b, c] - 1] = 1.0
            for t in range(information[b]):
                obs[b, q, info_at + t] = 1.0
            for t in range(life[b]):
                obs[b, q, life_at + t] = 1.0
            for kind in range(K):
                for t in range(discarded[b, kind]):
                    obs[b, q, discards_at + copies_start[kind] + t] = 1.0
            who = last[b, 0]
            if who >= 0:  # the last move
                kind = last[b, 1]
                at = last_at
                obs[b, q, at + _seat(who - q, P)] = 1.0
                at += P
                obs[b, q, at + kind] = 1.0
                at += 4
                hint = kind >= REVEAL_COLOR
                if hint:
                    obs[b, q, at + _seat(last[b, 2] - q, P)] = 1.0
                at += P
                if kind == REVEAL_COLOR:
                    obs[b, q, at + last[b, 3]] = 1.0
                at += C
                if kind == REVEAL_RANK:
                    obs[b, q, at + last[b, 4]] = 1.0
                at += R
                if hint:
                    for j in range(H):
                        if last_revealed[b, j]:
                            obs[b, q, at + j] = 1.0
                at += H
                if not hint:
                    obs[b, q, at + last[b, 5]] = 1.0
                at += H
                if not hint:
                    obs[b, q, at + last[b, 6]] = 1.0
                at += K
                if kind == PLAY:
                    if last_scored[b]:
                        obs[b, q, at] = 1.0
                    if last_token[b]:
                        obs[b, q, at + 1] = 1.0
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
                colour, rank = color_hinted[b, p, j], rank_hinted[b, p, j]
                for q in range(P):
                    at = knowledge + (_seat(p - q, P) * H + j) * card_bits
                    for t in range(n):
                        obs[b, q, at + possible[t]] = 1.0
                    if colour >= 0:
                        obs[b, q, at + K + colour] = 1.0
                    if rank >= 0:
                        obs[b, q, at + K + C + rank] = 1.0
        _legal_row(b, hand, information, current, P, H, C, R, max_information, legal)
        for a in range(legal.shape[0]):
            if legal[a]:
                obs[b, current[b], mask_at + a] = 1.0


@njit(cache=True)
def deal(uniforms, copies, order):  # pragma: no cover
    """Writes `order` `(S, D)`: each seed's deck, draw by draw as numpy's `Generator.choice(kinds, p=counts / left)`
    computes it from the draw's uniform `uniforms` `(S, D)`: p as float64 quotients, their running sum, divided
    by its last entry, and the first kind whose sum exceeds the uniform. The same operations in the same order
    give the same floats, so the same cards."""
    S, D = uniforms.shape
    K = copies.shape[0]
    W = 4  # seeds dealt side by side: their running sums are independent, so the adds overlap in the CPU
    counts = np.empty((W, K), dtype=np.int64)
    cdf = np.empty((W, K), dtype=np.float64)
    acc = np.empty(W, dtype=np.float64)
    quotient = np.empty(copies.max() + 1, dtype=np.float64)  # c / left for every count c: the same quotients
    for s0 in range(0, S, W):
        for t in range(W):
            counts[t, :] = copies
        for k in range(D):
            left = D - k
            for c in range(quotient.shape[0]):
                quotient[c] = c / left
            acc[:] = 0.0
            for j in range(K):
                for t in range(W):
                    acc[t] += quotient[counts[t, j]]
                    cdf[t, j] = acc[t]
            for t in range(W):
                s = min(s0 + t, S - 1)  # past the last seed: the last one again, its cards written twice
                last = cdf[t, K - 1]
                # the kinds whose normalised sum is <= the uniform are a prefix (the sums only grow, and dividing
                # by the same positive number keeps their order): found by halving, a few divisions, not K
                low, high = 0, K - 1  # the card is in [low, high]
                while low < high:
                    mid = (low + high) // 2
                    if cdf[t, mid] / last <= uniforms[s, k]:
                        low = mid + 1
                    else:
                        high = mid
                order[s, k] = low
                counts[t, low] -= 1


# ---------------------------------------------------------------- numpy's seeded generator, game by game
# `np.random.default_rng(seed).random(n)` (gymnasium's `np_random(seed)` is the same generator) written out: the
# SeedSequence's entropy pool, the PCG64 state it seeds, and PCG64's XSL-RR outputs as doubles. Making numpy's
# objects costs 6 us a seed, more than a whole game of random play; this costs a fraction of that.
# tests/test_hanabi.py checks it against numpy for seeds up to 2**64 - 1.

MASK32 = np.uint64(0xFFFFFFFF)
INIT_A, MULT_A = np.uint64(0x43B0D7E5), np.uint64(0x931E8875)
INIT_B, MULT_B = np.uint64(0x8B51F9DD), np.uint64(0x58F38DED)
MIX_MULT_L, MIX_MULT_R = np.uint64(0xCA01F9DD), np.uint64(0x4973F715)
PCG_MULT_HI, PCG_MULT_LO = np.uint64(2549297995355413924), np.uint64(4865540595714422341)


@njit(cache=True)
def _hashmix(value, hash_const):  # pragma: no cover
    """SeedSequence's hashmix on 32-bit words; returns (value, the next hash constant)."""
    value = (value ^ hash_const) & MASK32
    hash_const = (hash_const * MULT_A) & MASK32
    value = (value * hash_const) & MASK32
    return value ^ (value >> np.uint64(16)), hash_const


@njit(cache=True)
def _mix(x, y):  # pragma: no cover
    result = (MIX_MULT_L * x - MIX_MULT_R * y) & MASK32
    return result ^ (result >> np.uint64(16))


@njit(cache=True)
def _mul128(a_hi, a_lo, b_hi, b_lo):  # pragma: no cover
    """(a * b) mod 2**128 of (hi, lo) 64-bit halves."""
    a0, a1 = a_lo & MASK32, a_lo >> np.uint64(32)
    b0, b1 = b_lo & MASK32, b_lo >> np.uint64(32)
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    middle = (p00 >> np.uint64(32)) + (p01 & MASK32) + (p10 & MASK32)
    lo = (middle << np.uint64(32)) | (p00 & MASK32)
    hi = p11 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (middle >> np.uint64(32))
    return hi + a_hi * b_lo + a_lo * b_hi, lo


@njit(cache=True)
def _step128(s_hi, s_lo, i_hi, i_lo):  # pragma: no cover
    """One PCG64 step: state * multiplier + increment."""
    m_hi, m_lo = _mul128(s_hi, s_lo, PCG_MULT_HI, PCG_MULT_LO)
    lo = m_lo + i_lo
    return m_hi + i_hi + (np.uint64(1) if lo < m_lo else np.uint64(0)), lo


@njit(cache=True)
def seeded_uniforms(seeds, out):  # pragma: no cover
    """Writes `out` `(S, n)`: the first n doubles of `np.random.default_rng(seed)` for each seed `(S,)` uint64."""
    pool = np.empty(4, dtype=np.uint64)
    entropy = np.zeros(2, dtype=np.uint64)
    words = np.empty(8, dtype=np.uint64)
    for s in range(seeds.shape[0]):
        seed = seeds[s]
        entropy[0], entropy[1] = seed & MASK32, seed >> np.uint64(32)
        n_entropy = 2 if entropy[1] > 0 else 1
        hash_const = INIT_A
        for i in range(4):
            pool[i], hash_const = _hashmix(entropy[i] if i < n_entropy else np.uint64(0), hash_const)
        for i_src in range(4):
            for i_dst in range(4):
                if i_src != i_dst:
                    mixed, hash_const = _hashmix(pool[i_src], hash_const)
                    pool[i_dst] = _mix(pool[i_dst], mixed)
        hash_const = INIT_B
        for i in range(8):  # generate_state(4, uint64): 8 words from the pool, in turn
            value = (pool[i % 4] ^ hash_const) & MASK32
            hash_const = (hash_const * MULT_B) & MASK32
            value = (value * hash_const) & MASK32
            words[i] = value ^ (value >> np.uint64(16))
        v0 = words[0] | (words[1] << np.uint64(32))  # the uint64 view, little-endian
        v1 = words[2] | (words[3] << np.uint64(32))
        v2 = words[4] | (words[5] << np.uint64(32))
        v3 = words[6] | (words[7] << np.uint64(32))
        i_hi = (v2 << np.uint64(1)) | (v3 >> np.uint64(63))  # increment: (v2:v3 << 1) | 1
        i_lo = (v3 << np.uint64(1)) | np.uint64(1)
        s_hi, s_lo = _step128(np.uint64(0), np.uint64(0), i_hi, i_lo)
        lo = s_lo + v1  # state += v0:v1
        s_hi, s_lo = s_hi + v0 + (np.uint64(1) if lo < s_lo else np.uint64(0)), lo
        s_hi, s_lo = _step128(s_hi, s_lo, i_hi, i_lo)
        for k in range(out.shape[1]):
            s_hi, s_lo = _step128(s_hi, s_lo, i_hi, i_lo)
            x = s_hi ^ s_lo
            rot = s_hi >> np.uint64(58)
            x = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
            out[s, k] = (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
