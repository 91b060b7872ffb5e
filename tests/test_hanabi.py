"""Hanabi built in (games/hanabi.py, games/hanabi_core.py): the batched core is the PettingZoo env over whole games
from the same deal (plays, discards, hints, bomb-outs, completed fireworks, the last round, Shimmy's cut-off),
the cautious plan scores what a careful player does, and bad options are one line."""

import dataclasses

import numpy as np
import pytest
from click.testing import CliRunner

import games
from games.hanabi import layout, view
from games.hanabi_core import Layout, deck_order, deck_orders
from games.parity import assert_core_matches_env, random_actions
from games.rollout import rollout
from games.symmetry import Symmetry, SymmetryError, prove_symmetry
from league.cli import cli
from league.config import GRPOConfig
from league.grpo import train
from conftest import weights_digest

SPEC = games.get("hanabi")


def end_states(seeds: list[int], policy, **options) -> dict[str, int]:
    """How many of the games (played on the core alone) ended each way, and what happened on the way."""
    batch = SPEC.batch(len(seeds), **options)
    L = batch.layout
    rollout(batch, seeds, policy, SPEC.info(**options), SPEC.team_reward)
    return {"bomb-outs": int((batch.life == 0).sum()),
            "a firework completed": int((batch.fireworks == L.ranks).any(1).sum()),
            "all fireworks": int((batch.fireworks == L.ranks).all(1).sum()),
            "last round played": int((batch.turns_left <= 0).sum()),
            "cut off": int((batch.length > L.max_game_length).sum())}


@pytest.mark.parametrize("options, seen", [
    ({}, ("a firework completed", "last round played", "cut off")),
    ({"players": 3}, ("a firework completed", "last round played")),
    ({"players": 5, "hand_size": 4}, ("a firework completed", "last round played")),
    ({"colors": 2, "ranks": 3, "hand_size": 2}, ("all fireworks", "last round played")),
    ({"colors": 3, "ranks": 2, "players": 3, "hand_size": 2, "max_information_tokens": 20, "max_life_tokens": 10},
     ("all fireworks", "last round played")),
])
def test_the_core_plays_the_envs_games_with_the_cautious_plan(options, seen):
    seeds = list(range(100, 112))
    report = assert_core_matches_env(SPEC, seeds, policy=SPEC.scripted, atol=0.0, **options)
    assert report.steps >= 12 * 10  # whole games: at least ten turns each
    ends = end_states(seeds, SPEC.scripted, **options)
    assert ends["bomb-outs"] == 0  # the cautious plan never plays a card it does not know
    for what in seen:  # the hard cases happened in these very games
        assert ends[what] > 0, (what, ends)
    moves = report.actions[report.alive[:-1]]
    H = layout(SPEC.info(**options).options).hand_size
    assert (moves < H).any() and ((moves >= H) & (moves < 2 * H)).any() and (moves >= 2 * H).any()  # all 3 kinds


def seer(obs: np.ndarray, info) -> np.ndarray:
    """Plays with its own cards face up (read from a partner's view): plays a card that fits, else discards the
    oldest, else gives the first legal hint. It completes fireworks with the tokens full (the token a 5 gives
    back is then lost), which careful play rarely does."""
    L = layout(info.options)
    v = view(obs, L)
    B, P = obs.shape[:2]
    move = np.zeros((B, P), dtype=np.int64)
    for p in range(P):
        partner = (p + 1) % P
        mine = v.seen[:, partner, P - 2]  # (B, H): the partner sees me as its relative player P - 1
        fits = (mine >= 0) & np.take_along_axis(v.playable[:, p], np.clip(mine, 0, None), -1)
        legal = v.legal[:, p]
        hint = np.where(legal[:, 2 * L.hand_size:].any(-1), 2 * L.hand_size + legal[:, 2 * L.hand_size:].argmax(-1),
                        legal.argmax(-1))
        move[:, p] = np.where(fits.any(-1), L.hand_size + fits.argmax(-1), np.where(legal[:, 0], 0, hint))
    return move


@pytest.mark.parametrize("options", [{}, {"players": 3}, {"colors": 2, "ranks": 3, "hand_size": 2}])
def test_the_core_plays_the_envs_games_with_cards_face_up(options):
    seeds = list(range(40, 52))
    assert_core_matches_env(SPEC, seeds, policy=seer, atol=0.0, **options)
    ends = end_states(seeds, seer, **options)
    assert ends["all fireworks"] > 0 and ends["bomb-outs"] == 0, ends


@pytest.mark.parametrize("options", [{}, {"players": 4, "hand_size": 4}, {"max_information_tokens": 0},
                                     {"colors": 2, "ranks": 3, "hand_size": 2}])
def test_the_core_plays_the_envs_games_with_random_legal_moves(options):
    seeds = list(range(7, 37))
    report = assert_core_matches_env(SPEC, seeds, policy=random_actions(3), atol=0.0, **options)
    assert (report.rewards < 0).any()  # a bomb-out takes the score back
    assert end_states(seeds, random_actions(3), **options)["bomb-outs"] > 0


def test_the_deal_is_the_envs_deal_for_any_seed():
    """The first hands the env deals (player 1's cards, as player 0 sees them) are the deck order's."""
    env = SPEC.make_env()
    L = Layout()
    for seed in (0, 1, 12345, 2**31 - 1):
        obs, _ = env.reset(seed=seed)
        seen = obs["player_0"][:L.hand_size * L.kinds].reshape(L.hand_size, L.kinds).argmax(-1)
        assert (seen == deck_order(seed, L)[L.hand_size:2 * L.hand_size]).all()


def test_seeds_dealt_side_by_side_get_their_own_decks():
    """The deal works out several seeds side by side (`hanabi_kernels.deal`): any number of them, a repeated one
    too, gives each seed the deck it gets alone."""
    L = Layout()
    for seeds in ([7], [1, 2], [3, 4, 5], [9, 8, 7, 6, 5], [11, 11, 12, 2**40, 0, 3, 3]):
        together = deck_orders(seeds, L)
        assert (together == np.stack([deck_order(s, L) for s in seeds])).all()
        assert len({tuple(row) for row in together}) == len(set(seeds))


def test_the_seeded_uniforms_are_numpys_for_any_seed():
    """The deal's compiled generator gives what `np.random.default_rng(seed)` (gymnasium's np_random) gives."""
    from games.hanabi_kernels import seeded_uniforms

    seeds = np.array([0, 1, 7, 2**31 - 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1, *range(1000, 1200)], dtype=np.uint64)
    out = np.empty((len(seeds), 50))
    seeded_uniforms(seeds, out)
    assert (out == np.stack([np.random.default_rng(int(s)).random(50) for s in seeds])).all()


def test_an_illegal_move_on_the_core_is_refused_before_any_game_moves():
    batch = SPEC.batch(3)
    batch.reset([1, 2, 3])
    before = (batch.hand.copy(), batch.information.copy(), batch.current.copy())
    moves = np.zeros((3, 2), dtype=np.int64)
    moves[:, 0] = 5  # game 0 and 1 play their first card; game 2 discards with every token in hand
    moves[2, 0] = 0
    with pytest.raises(ValueError, match="game 2: move 0 is not legal"):
        batch.step(moves)
    assert all((a == b).all() for a, b in zip(before, (batch.hand, batch.information, batch.current)))


def test_layout_matches_openspiel():
    import pyspiel

    for options in ({}, {"players": 5, "hand_size": 4}, {"colors": 2, "ranks": 3, "max_information_tokens": 0}):
        L = Layout(**options)
        game = pyspiel.load_game("hanabi", {k: v for k, v in options.items()})
        assert L.max_game_length == game.max_game_length()
        assert L.size == game.observation_tensor_size() and L.n_actions == game.num_distinct_actions()


def test_the_cautious_plan_scores_as_a_careful_player():
    """About 17.5 of 25 over 200 deals, with no life ever lost (random legal play loses them all: 0)."""
    info = SPEC.info()
    returns = rollout(SPEC.batch(200), list(range(200)), SPEC.scripted, info, SPEC.team_reward).returns
    assert 17.0 <= returns.mean() <= 18.5 and returns.min() >= 10
    assert rollout(SPEC.batch(50), list(range(50)), random_actions(0), info, SPEC.team_reward).returns.max() == 0


def test_the_horizon_is_the_longest_game_of_its_options():
    assert SPEC.info().horizon == 97 and SPEC.info(players=5, hand_size=4).horizon == 83
    assert SPEC.info().turn_based and SPEC.info().masks == {"player": Layout().size}


@pytest.mark.parametrize("option, needle", [
    ("players=6", "option players must be an integer from 2 to 5"),
    ("colors=1", "option colors must be an integer from 2 to 5"),
    ("max_life_tokens=0", "option max_life_tokens must be an integer from 1 to 10"),
    ("max_information_tokens=1e9", "option max_information_tokens must be an integer from 0 to 20"),
    ("observation_type=everything", "observation_type"),
])
def test_bad_options_are_one_line(option, needle):
    result = CliRunner().invoke(cli, ["games", "--game", "hanabi", "--game-option", option])
    assert result.exit_code != 0 and needle in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_options_that_cannot_be_dealt_are_refused():
    with pytest.raises(games.GameError, match="need at least as many colours"):
        SPEC.info(players=3, colors=2)
    with pytest.raises(games.GameError, match="need more than the deck's 8 cards"):
        SPEC.info(colors=2, ranks=2, hand_size=4)
    np.testing.assert_equal(SPEC.has_core(random_start_player=True), False)  # the generic runner plays those


def test_the_colour_renamings_are_proven_symmetries():
    """All 5! renamings are declared; a swap, a cycle of all five and a reversal are played out on the core
    (every observation, mask and reward) from the same deals."""
    symmetries = SPEC.symmetries()
    assert len(symmetries) == 120 and symmetries[0].is_identity()
    chosen = [s for s in symmetries if s.landmarks in ((1, 0, 2, 3, 4), (1, 2, 3, 4, 0), (4, 3, 2, 1, 0))]
    assert len(chosen) == 3
    for s in chosen:
        prove_symmetry(SPEC, s, seeds=range(12), seed=2)
    three = SPEC.symmetries(players=3, colors=3, ranks=3)
    assert len(three) == 6
    prove_symmetry(SPEC, three[4], seeds=range(8), players=3, colors=3, ranks=3)


def test_a_renaming_that_forgets_a_part_is_refused():
    """Renaming the colours but not the colour hints (or not the discards) is not a symmetry."""
    s = next(s for s in SPEC.symmetries() if s.landmarks == (1, 2, 3, 4, 0))
    kept_hints = Symmetry(s.landmarks, s.obs, {"player": np.arange(20)})
    index = s.obs["player"].copy()
    L = Layout()
    index[L.discards:L.last_move] = np.arange(L.discards, L.last_move)
    kept_discards = Symmetry(s.landmarks, {"player": index}, s.actions)
    for wrong in (kept_hints, kept_discards):
        with pytest.raises(SymmetryError, match="not a symmetry"):
            prove_symmetry(SPEC, wrong.validate(SPEC.info()), seeds=range(12), seed=2)


@pytest.mark.slow
def test_other_play_trains_on_hanabi_with_legal_moves_in_every_renaming():
    """With the cautious plan as partner, groups see the deal through a random renaming of the colours (the mask
    renamed with the moves): training is reproducible, differs from plain training, and never plays an illegal
    move (the core would raise)."""
    cfg = GRPOConfig(game="hanabi", groups=4, group_size=4, seed=3, other_play=True)
    partners = {"scripted": SPEC.scripted}
    first = weights_digest(train(cfg, max_env_steps=3000, partners=partners).policy)
    assert weights_digest(train(cfg, max_env_steps=3000, partners=partners).policy) == first
    plain = dataclasses.replace(cfg, other_play=False)
    assert weights_digest(train(plain, max_env_steps=3000, partners=partners).policy) != first


def test_the_reused_observation_buffer_holds_only_this_turns_games():
    """The core writes every turn's observations into one buffer: a game that ended reads all zeros from then
    on, and each game still playing reads what a fresh observation of it would (`observe_all`), though the
    buffer held other turns' cards a moment before."""
    from games.turns import uniform_moves

    batch, info, rng = SPEC.batch(16), SPEC.info(), np.random.default_rng(3)
    obs = batch.reset(list(range(16)))
    ended_seen = 0
    while not batch.done.all():
        obs, _, done = batch.step(uniform_moves(rng, obs, info))
        fresh = batch.observe_all()
        assert (obs[done] == 0).all()
        assert (obs[~done] == fresh[~done]).all()
        ended_seen += int(done.sum())
    assert ended_seen > 0 and (obs == 0).all()
    again = batch.reset(list(range(16, 32)))
    assert (again == batch.observe_all()).all()
