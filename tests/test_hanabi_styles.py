"""Hanabi's people-like partner styles (games/hanabi_styles.py): each habit shows in the games it plays, on the
batched core, and nowhere else; the view they read (games/hanabi_plan.py) is what the game holds."""

import numpy as np
import pytest

import games
from games.hanabi_core import HanabiBatch, layout_of
from games.hanabi_plan import known, view
from games.hanabi_styles import FORGET_TURNS, Forgetful
from games.spec import GameError
from games.styles import partner_style, style_names

SPEC = games.get("hanabi")
INFO = SPEC.info()
L = layout_of(INFO.options)
H, R = L.hand_size, L.ranks
SEEDS = list(range(100))


def play(seats, seeds=SEEDS, **options):
    """Plays the games on the core with one policy per seat; returns the core at the end and a record of every
    move: (game, player, move, the mover's view row, the core's hand and lives before the move)."""
    core = HanabiBatch(len(seeds), **options)
    info = SPEC.info(**options)
    obs = core.reset(seeds)
    record = []
    while not core.done.all():
        v = view(obs, core.layout)
        actions = np.stack([policy(obs, info)[:, i] for i, policy in enumerate(seats)], 1)
        for b in np.flatnonzero(~core.done):
            p = core.current[b]
            record.append((b, p, int(actions[b, p]), v, core.hand[b].copy(), int(core.life[b])))
        obs, _, _ = core.step(actions)
    return core, record


def style(name, info=INFO):
    return partner_style(SPEC, name, info, 0)


def test_hanabi_declares_its_people_like_styles():
    assert style_names(SPEC) == ["slips", "saves_5s", "risky", "forgets"]  # no `slow`: the game waits
    with pytest.raises(GameError, match="styles: slips, saves_5s, risky, forgets"):
        partner_style(SPEC, "careless", INFO)


def test_the_view_counts_the_copies_a_seat_cannot_see():
    core = HanabiBatch(16)
    obs = core.reset(list(range(16)))
    for _ in range(40):
        v = view(obs, L)
        for b in np.flatnonzero(~core.done):
            for q in range(L.players):
                truth = np.tile(L.copies, L.colors) - core.discarded[b]
                truth -= (np.arange(L.kinds) % R < core.fireworks[b][np.arange(L.kinds) // R])  # on the fireworks
                partner = core.hand[b, (q + 1) % L.players]
                np.subtract.at(truth, partner[partner >= 0], 1)
                assert (v.unseen[b, q] == truth).all()
                assert v.lives[b, q] == core.life[b]
        obs, _, _ = core.step(SPEC.scripted(obs, INFO))


def test_saves_5s_hints_a_five_about_to_be_discarded():
    _, cautious = play([SPEC.scripted] * 2)
    core, saving = play([style("saves_5s")] * 2)
    fives = [sum(m < H and hand[p, m] % R == R - 1 for _, p, m, _, hand, _ in record) for record in (cautious, saving)]
    assert fives[1] * 3 < fives[0]  # 531 fives discarded by cautious play, 105 with saves, over 200 games
    saves = 0
    for b, p, m, v, hand, _ in saving:
        partner = hand[1 - p]
        unhinted = v.held[b, p, 1] & ~v.hinted[b, p, 1]
        five_on_chop = unhinted.any() and partner[unhinted.argmax()] % R == R - 1
        knows = known(v, np.broadcast_to(np.arange(L.kinds) % R == R - 1, v.playable.shape))[b, p, 1]
        if five_on_chop and not knows[unhinted.argmax()] and v.hints[b, p] > 0 \
                and not known(v, v.playable)[b, p, 0].any():
            assert m == 2 * H + L.colors + R - 1  # the rank-5 hint
            saves += 1
    assert saves >= 50
    assert (core.life == L.max_life_tokens).all()  # saving costs no life


def test_risky_plays_on_two_clues_but_never_the_last_life():
    core, record = play([style("risky")] * 2)
    risky = [(v, b, p, m - H, hand, life) for b, p, m, v, hand, life in record
             if H <= m < 2 * H and not known(v, v.playable)[b, p, 0, m - H]]
    assert len(risky) > 100
    assert all(life > 1 for *_, life in risky)
    for v, b, p, slot, _, _ in risky:
        assert v.hinted[b, p, 0, slot] and (v.possible[b, p, 0, slot] & (v.unseen[b, p] > 0)).sum() <= 2
    fits = [core_fits for core_fits in (hand[p, slot] % R == v.level[b, p, hand[p, slot] // R]
                                        for v, b, p, slot, hand, _ in risky)]
    assert np.mean(fits) >= 0.5  # at least half of the copies it could be were playable: it wins more than it loses
    assert (core.life >= 1).all() and (core.life < L.max_life_tokens).any()
    _, cautious = play([SPEC.scripted] * 2)
    assert all(known(v, v.playable)[b, p, 0, m - H] for b, p, m, v, *_ in cautious if H <= m < 2 * H)


def test_forgets_keeps_the_age_of_each_hint_as_cards_move_up():
    """Three players: player 0 hints player 1's newest card, then player 1 discards its oldest card every turn
    (the hinted card moves up a slot each time) while players 0 and 2 hint each other; once the hint is old,
    player 1 forgets it, and only it."""
    info = SPEC.info(players=3)
    core = HanabiBatch(1, players=3)
    obs = core.reset([7])
    forgetful = Forgetful(info)
    C = L.colors
    rank = int(core.hand[0, 1, H - 1] % R)
    tracked = H - 1  # the slot the hinted card is in now
    since = [1] * H  # the call at which each of player 1's cards was last told something: the hint rules out
    for turn in range(30):  # the rank for the cards it does not name, so all learn something at turn 1
        forgetful(obs, info)
        if turn:
            assert forgetful.age[0, 1].tolist() == [turn - t for t in since]
        player = int(core.current[0])
        if player == 1 and tracked == 0:  # its other cards were all drawn after the hint
            break
        if turn == 0:
            move = 2 * H + 2 * C + rank  # player 0 hints rank `rank` to the next player, player 1
        elif player == 1:
            move, tracked = 0, tracked - 1  # discard the oldest: the later cards move up
            since = since[1:] + [turn + 1]  # the card drawn: nothing known, seen first at the next call
        else:  # a colour the other one holds: player 0 to player 2 (two on), player 2 to player 0 (next)
            move = 2 * H + (C if player == 0 else 0) + int(core.hand[0, 2 - player, 0] // R)
        actions = np.zeros((1, 3), dtype=np.int64)
        actions[0, player] = move
        obs, _, _ = core.step(actions)
    else:
        pytest.fail("the hint was never forgotten")
    assert forgetful.age[0, 1, 0] >= FORGET_TURNS
    assert view(obs, layout_of(info.options)).hinted[0, 1, 0, 0]  # the game still says it was hinted
    assert forgetful.forgotten[0, 1].tolist() == [True] + [False] * (H - 1)  # only the old hint is forgotten


def test_forgets_discards_hinted_cards_that_cautious_play_keeps():
    def hinted_discards(record):
        return sum(m < H and v.hinted[b, p, 0, m] and (v.held[b, p, 0] & ~v.hinted[b, p, 0]).any()
                   and not known(v, v.useless)[b, p, 0, m] for b, p, m, v, *_ in record)

    _, cautious = play([SPEC.scripted] * 2)
    core, forgetting = play([style("forgets")] * 2)
    assert hinted_discards(cautious) == 0  # cautious play keeps a hinted card while an unhinted one is there
    assert hinted_discards(forgetting) > 100
