"""Partner evaluation: people-like partner styles, partner scores against the scripted baseline with the same
partner, their storage, and the `league partners` / `crossplay` / `plot partners` / `play` commands."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import games
from conftest import one_error_line
from games.scripted import spread_targets, steer
from games.styles import STUBBORN_SAY, partner_style, style_names
from league import partners as partners_module
from league.cli import cli
from league.evaluate import eval_seeds, random_policy
from league.partners import (
    PARTNER_SEED,
    held_out_generations,
    score_with_interval,
    partner_scores,
    partner_summary,
    best_partner,
    seat_returns,
)
from league.store import StoreError

SHORT = {"knights_archers_zombies": {"max_cycles": 200}, "pursuit": {"max_cycles": 60}}
GAME_STYLES = [(game, style) for game in games.names() for style in style_names(games.get(game))]


# ---------------------------------------------------------------- styles


def play_style(game, style, seed=0, B=8):
    """One batch of episodes with the style in every seat: the observations `(T, B, n, D)` and its actions
    `(T, B, n)`."""
    kwargs = SHORT.get(game, {})
    spec = games.get(game)
    info = spec.info(**kwargs)
    policy = partner_style(games.get(game), style, info, seed)
    batch = spec.batch(B, **kwargs)
    obs, done = batch.reset(list(range(500, 500 + B))), np.zeros(B, dtype=bool)
    seen, acted = [], []
    while not done.all():
        actions = policy(obs, info)
        seen.append(obs.copy())  # a core may hand back the same buffer every step
        acted.append(actions)
        obs, _, done = batch.step(actions)
    batch.close()
    return info, np.stack(seen), np.stack(acted)


@pytest.mark.parametrize("game, style", GAME_STYLES)
def test_styles_play_valid_actions_deterministically_and_unlike_scripted(game, style):
    info, seen, acted = play_style(game, style)
    n_actions = np.array([info.n_actions[info.role_of(a)] for a in info.agents])
    assert acted.dtype == np.int64 and acted.shape[1:] == (8, len(info.agents))
    assert ((acted >= 0) & (acted < n_actions)).all()
    # the same seed on the same observations gives the same actions (a fresh policy: state starts over)
    again = partner_style(games.get(game), style, info, seed=0)
    assert all(np.array_equal(again(o, info), a) for o, a in zip(seen, acted))
    # never the scripted baseline (a training partner): some action differs on the same observations
    scripted = np.stack([games.get(game).scripted(o, info) for o in seen])
    assert (scripted != acted).any()


def test_slips_depend_on_the_seed_only():
    info, seen, acted = play_style("simple_spread", "slips", seed=1)
    other = partner_style(games.get("simple_spread"), "slips", info, seed=2)
    assert any(not np.array_equal(other(o, info), a) for o, a in zip(seen, acted))
    slipped = np.mean(np.stack([games.get("simple_spread").scripted(o, info) for o in seen]) != acted)
    assert 0.02 < slipped < 0.2  # SLIP_RATE = 0.1 of the steps, a random action that is sometimes the plan's


def test_style_names_and_unknown_styles():
    assert style_names(games.get("simple_spread")) == ["slow", "slips", "stubborn"]
    assert all("natural" in style_names(games.get(g)) for g in ("simple_speaker_listener", "simple_reference"))
    info = games.get("simple_spread").info()
    with pytest.raises(games.GameError, match="'sleepy'.*slow, slips, stubborn"):
        partner_style(games.get("simple_spread"), "sleepy", info)
    bare = games.GameSpec(name="bare", env_fn=games.get("simple_spread").env_fn)
    assert style_names(bare) == []  # no scripted plan: no style to build on


def test_a_style_plays_one_batch():
    info = games.get("simple_spread").info()
    policy = partner_style(games.get("simple_spread"), "stubborn", info)
    policy(np.zeros((4, 3, 18), dtype=np.float32), info)
    with pytest.raises(ValueError, match="fresh one"):
        policy(np.zeros((2, 3, 18), dtype=np.float32), info)


def test_slow_waits_then_plays_late_observations():
    info, seen, acted = play_style("simple_spread", "slow")
    delay = 3  # 0.3 s at 10 fps
    assert (acted[:delay] == 0).all()  # no key held yet: drift
    late = np.stack([games.get("simple_spread").scripted(o, info) for o in seen[:-delay]])
    assert np.array_equal(acted[delay:], late)


def test_stubborn_spread_keeps_the_landmark_nearest_at_the_start():
    info, seen, acted = play_style("simple_spread", "stubborn", B=16)
    B, n = seen.shape[1:3]
    landmarks = seen[..., 4 : 4 + 2 * n].reshape(len(seen), B, n, n, 2)  # (T, B, N, L, 2)
    first = np.argmin(np.linalg.norm(landmarks[0], axis=-1), axis=-1)  # (B, N)
    for t in range(len(seen)):
        target = np.take_along_axis(landmarks[t], first[..., None, None], axis=2)[:, :, 0]
        assert np.array_equal(acted[t], steer(target, seen[t][..., 0:2]))
    # whatever the others do: the scripted assignment would have sent some agents elsewhere
    assert (spread_targets(seen[0]) != first).any()


def listener_obs(word):
    """speaker_listener observations `(1, 2, 11)`: the goal is landmark 1 (for the speaker); landmark 0 lies
    to the listener's left, 2 to its right; the listener hears `word` (None: nothing yet)."""
    obs = np.zeros((1, 2, 11), dtype=np.float32)
    obs[0, 0, :3] = [0.15, 0.65, 0.15]  # goal colour: landmark 1
    obs[0, 1, 2:8] = [-1.0, 0.0, 0.0, 1.0, 1.0, 0.0]  # landmarks relative to the listener
    if word is not None:
        obs[0, 1, 8 + word] = 1.0
    return obs


def test_stubborn_speaker_says_it_once_and_listener_keeps_its_first_word():
    info = games.get("simple_speaker_listener").info()
    stubborn = partner_style(games.get("simple_speaker_listener"), "stubborn", info)
    words = [None, 2, 0, 0, 0, 0]  # first hears landmark 2, then is told landmark 0
    acted = np.stack([stubborn(listener_obs(w), info)[0] for w in words])  # (T, 2) speaker word, listener move
    assert list(acted[:, 0]) == [1] * STUBBORN_SAY + [0] * (len(words) - STUBBORN_SAY)  # then word A (idle)
    assert (acted[1:, 1] == 2).all()  # +x: still toward landmark 2
    assert games.get("simple_speaker_listener").scripted(listener_obs(0), info)[0, 1] == 1  # scripted turns to -x


def pursuit_obs(evaders):
    """pursuit observations `(1, 8, 147)`: seat 0's window has itself at the centre and evaders at the given
    (row, col) cells; the other seats see nothing."""
    grid = np.zeros((1, 8, 7, 7, 3), dtype=np.float32)
    grid[0, 0, 3, 3, 1] = 1  # itself
    for r, c in evaders:
        grid[0, 0, r, c, 2] = 1
    return grid.reshape(1, 8, -1)


def test_stubborn_pursuer_keeps_chasing_its_evader():
    info = games.get("pursuit").info()
    stubborn = partner_style(games.get("pursuit"), "stubborn", info)
    first = pursuit_obs([(3, 5), (3, 0)])  # A two cells right, B three left: chases A
    assert stubborn(first, info)[0, 0] == 1  # +x toward A
    # A moved one row down (seen where it should be, after the pursuer's step); B came next to the pursuer
    later = pursuit_obs([(4, 4), (3, 2)])
    assert games.get("pursuit").scripted(later, info)[0, 0] == 4  # scripted: stay, already beside B
    assert stubborn(later, info)[0, 0] == 1  # stubborn: on toward A


# ---------------------------------------------------------------- partner scores


def test_score_with_interval_by_hand():
    score, half = score_with_interval(np.array([2.0, 4.0]), np.array([3.0, 5.0]), np.array([1.0, 1.0]))
    assert score == pytest.approx(2 / 3)  # gains 1, 3 over scales 2, 4: 2 / 3
    assert half == pytest.approx(1.96 / 9)  # residuals -1/9, +1/9
    assert score_with_interval(np.ones(3), np.zeros(3), np.zeros(3)) == (None, None)  # scripted no better
    # scripted ahead of random on average, but not beyond its own interval: no scale to divide by
    noisy = np.array([3.0, -2.5, 2.0, -2.0])
    assert score_with_interval(np.ones(4), noisy, np.zeros(4)) == (None, None)
    assert score_with_interval(np.ones(4), noisy + 10, np.zeros(4))[0] == pytest.approx(1 / 10.125)


def test_a_partner_takes_only_its_seat(monkeypatch):
    sent, shapes = [], []

    class Recording(partners_module.VectorBatch):
        def step(self, actions):
            sent.append(actions.copy())
            return super().step(actions)

    def team(obs, info):
        return np.zeros(obs.shape[:2], dtype=np.int64)  # no-op everywhere

    def partner(obs, info):
        shapes.append(obs.shape)
        return np.full(obs.shape[:2], 4, dtype=np.int64)  # +y everywhere: visible where it is taken

    monkeypatch.setattr(partners_module, "VectorBatch", Recording)
    returns = seat_returns("simple_spread", {}, team, partner, [7, 8], reference_env=True)
    assert returns.shape == (2, 3)
    assert shapes[0] == (6, 3, 18)  # it sees every seat of every episode
    expected = np.repeat(np.eye(3, dtype=np.int64), 2, axis=0) * 4  # episode k*2 + s: the partner in seat k
    assert len(sent) == 25 and all(np.array_equal(a, expected) for a in sent)


def test_batched_core_and_pettingzoo_env_agree():
    game = "simple_speaker_listener"
    info = games.get(game).info()
    fast = seat_returns(game, {}, games.get(game).scripted, partner_style(games.get(game), "stubborn", info), [3, 4])
    slow = seat_returns(game, {}, games.get(game).scripted, partner_style(games.get(game), "stubborn", info), [3, 4], reference_env=True)
    np.testing.assert_allclose(fast, slow, atol=1e-4)


def style_partners(game, info):
    return {s: (lambda seed, s=s: partner_style(games.get(game), s, info, seed)) for s in style_names(games.get(game))}


@pytest.mark.parametrize("game", ["simple_speaker_listener", "pursuit"])
def test_scripted_team_scores_one_and_random_zero(game):
    kwargs = SHORT.get(game, {})
    info = games.get(game).info(**kwargs)
    seeds = eval_seeds(6)
    scores = partner_scores(game, kwargs, games.get(game).scripted, style_partners(game, info), seeds)
    assert [s.partner for s in scores] == style_names(games.get(game)) and {s.kind for s in scores} == {"style"}
    for s in scores:
        assert s.score == pytest.approx(1.0) and s.score_ci == pytest.approx(0.0)
        assert s.team_return == pytest.approx(s.scripted_return) and s.scripted_return > s.random_return
        assert s.seats == list(info.agents) and s.episodes == 6 * len(info.agents)
        assert len(s.seat_scores) == len(info.agents)  # the partner in each seat alone scores one too
        defined = [(v, h) for v, h in s.seat_scores if v is not None]  # a seat where scripted is surely better
        assert defined and all(v == pytest.approx(1.0) and h == pytest.approx(0.0) for v, h in defined)
    # a team whose speaker says the natural words but whose listener reads a private code: it plays well with a
    # natural partner who listens, badly with one who speaks; the seats say so, the mean over them would not
    if game == "simple_speaker_listener":
        from tests.test_conventions import SL_PERM, permuted_speaker_listener

        private = permuted_speaker_listener(SL_PERM)

        def half_natural(obs, info):
            return np.stack([games.get(game).scripted(obs, info)[:, 0], private(obs, info)[:, 1]], axis=1)

        natural = {"natural": style_partners(game, info)["natural"]}
        scored = partner_scores(game, kwargs, half_natural, natural, seeds)[0]
        partner_speaks, partner_listens = (v for v, _ in scored.seat_scores)  # seats: speaker_0, listener_0
        assert partner_listens == pytest.approx(1.0) and partner_speaks < 0.5
    # random play seeded like the baseline is the baseline: exactly 0; seeded otherwise, 0 within the interval
    slow = {"slow": style_partners(game, info)["slow"]}
    same = partner_scores(game, kwargs, random_policy(info, PARTNER_SEED), slow, seeds)[0]
    assert same.score == pytest.approx(0.0, abs=1e-12)
    other = partner_scores(game, kwargs, random_policy(info, 99), slow, eval_seeds(16))[0]
    assert abs(other.score) < 3 * other.score_ci


def test_partner_summary_separates_styles_from_generations():
    rows = [{"kind": "style", "score": 1.0}, {"kind": "style", "score": 0.5}, {"kind": "style", "score": None},
            {"kind": "generation", "score": 0.2}]
    assert partner_summary(rows) == {"style": 0.75, "style_partners": 2, "generation": 0.2,
                                     "generation_partners": 1}
    assert partner_summary([])["style"] is None


# ---------------------------------------------------------------- a small league: storage and commands


@pytest.fixture(scope="module")
def league(tmp_path_factory, tiny_league):
    d = tmp_path_factory.mktemp("partners")
    store, manager = tiny_league(d, grpo=dict(groups=4), teams=2, generations=2, steps_per_generation=400,
                                 match_seeds=2, opponents=["random"])
    yield store, manager.league, str(d / "league.db")
    store.close()


@pytest.fixture
def lg(league):
    """The league with no partner rows: each test starts from the same state."""
    store, _, _ = league
    store.db.execute("DELETE FROM partner_scores")
    store.db.execute("DELETE FROM generation_partners")
    store.db.conn.commit()
    return league


@pytest.fixture
def run(lg):
    _, _, db = lg
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, [*args, "--db", db], catch_exceptions=False)


def test_generation_partners_are_recorded_once(lg):
    store, _, _ = lg
    g = store.generation("default/alpha/g2")
    assert store.generation_partners(g["id"]) == []
    store.add_generation_partners(g["id"], ["default/beta/g1", "scripted"])
    store.add_generation_partners(g["id"], ["scripted"])
    assert store.generation_partners(g["id"]) == ["default/beta/g1", "scripted"]
    with pytest.raises(StoreError, match="no generation with id 999"):
        store.add_generation_partners(999, ["scripted"])


def test_held_out_generations_skip_the_lineages_training_partners(lg):
    store, _, _ = lg
    alpha1, alpha2 = store.generation("default/alpha/g1"), store.generation("default/alpha/g2")
    assert [g["name"] for g in held_out_generations(store, alpha2)] == ["default/beta/g2"]  # newest, not g0
    store.add_generation_partners(alpha1["id"], ["beta/g2"])  # an ancestor trained with it (short name)
    assert [g["name"] for g in held_out_generations(store, alpha2)] == ["default/beta/g1"]
    store.add_generation_partners(alpha2["id"], ["default/beta/g1", "scripted"])
    assert held_out_generations(store, alpha2) == []


def test_partners_command_stores_and_prints(run, lg):
    store, _, _ = lg
    result = run("partners", "alpha/g2", "--seeds", "2")
    assert result.exit_code == 0, result.output
    for name in ["slow", "slips", "stubborn", "default/beta/g2", "styles: mean partner score",
                 "generations: mean partner score"]:
        assert name in result.output
    rows = {r["partner"]: r for r in store.partner_scores(store.generation("default/alpha/g2")["id"])}
    assert set(rows) == {"slow", "slips", "stubborn", "default/beta/g2"}
    assert rows["default/beta/g2"]["kind"] == "generation" and rows["slow"]["kind"] == "style"
    assert rows["slow"]["episodes"] == 2 * 3 and rows["slow"]["seats"] == ["agent_0", "agent_1", "agent_2"]
    # scored again: replaced, not added
    assert run("partners", "alpha/g2", "--seeds", "3", "--partner", "slow").exit_code == 0
    again = {r["partner"]: r for r in store.partner_scores(store.generation("default/alpha/g2")["id"])}
    assert len(again) == 4 and again["slow"]["episodes"] == 3 * 3


def test_partners_json_shape(run):
    data = json.loads(run("partners", "default/beta/g1", "--seeds", "2", "--json").output)
    assert data["generation"] == "default/beta/g1" and data["seeds"] == 2
    assert [p["partner"] for p in data["partners"]] == ["slow", "slips", "stubborn", "default/alpha/g2"]
    assert set(data["partners"][0]) == {"partner", "kind", "seats", "episodes", "team_return", "team_return_ci",
                                        "scripted_return", "random_return", "score", "score_ci", "seat_scores"}
    assert len(data["partners"][0]["seat_scores"]) == len(data["partners"][0]["seats"])
    styles = [p["score"] for p in data["partners"] if p["kind"] == "style"]
    assert data["summary"]["style"] == pytest.approx(np.mean(styles)) and data["summary"]["style_partners"] == 3
    assert data["summary"]["generation_partners"] == 1


def test_partners_bad_input_is_one_error_line(run, lg):
    store, _, _ = lg
    one_error_line(run("partners", "alpha/g9"), "alpha/g9")
    one_error_line(run("partners", "alpha/g2", "--partner", "sleepy"), "sleepy", "slow, slips, stubborn")
    one_error_line(run("partners", "alpha/g2", "--seeds", "1"), "--seeds")
    one_error_line(run("partners", "alpha/g2", "--seeds", "x"), "--seeds")
    one_error_line(run("partners", "alpha/g2", "--partner", "alpha/g1"), "not a generation of another team")
    store.add_generation_partners(store.generation("default/alpha/g2")["id"], ["default/beta/g1"])
    one_error_line(run("partners", "alpha/g2", "--partner", "beta/g1"), "trained with default/beta/g1")
    one_error_line(run("partners", "alpha/g2", "--league", "nope"), "unknown league 'nope'")
    assert store.partner_scores(store.generation("default/alpha/g2")["id"]) == []  # nothing stored


def test_crossplay_and_plot_show_stored_partner_scores(run, tmp_path):
    one_error_line(run("plot", "partners", "--out", str(tmp_path / "none.png")), "league partners")
    run("partners", "alpha/g2", "--seeds", "2", "--partner", "slow", "--partner", "beta/g2")
    data = json.loads(run("crossplay", "--json").output)
    assert {(p["generation"], p["partner"]) for p in data["partners"]} == {
        ("default/alpha/g2", "slow"), ("default/alpha/g2", "default/beta/g2")}
    assert "partner scores" in run("crossplay").output
    out = tmp_path / "partners.png"
    assert run("plot", "partners", "--out", str(out)).exit_code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def score(generation, value):
    return {"partner": "slow", "kind": "style", "seats": ["agent_0"], "episodes": 2, "team_return": -10.0,
            "team_return_ci": 1.0, "scripted_return": -9.0, "random_return": -20.0, "score": value, "score_ci": 0.1}


def test_play_picks_the_best_partner_by_stored_score(lg, run):
    store, league, _ = lg
    name, why = best_partner(store, league)  # nothing scored yet: the top-rated generation
    from league.reports import leaderboard
    top = next(r["player"] for r in leaderboard(store, league) if r["player"] not in ("random", "scripted"))
    assert name == top and "top-rated" in why and f"league partners {top}" in why
    store.add_partner_scores(store.generation("default/alpha/g1")["id"], [score("alpha/g1", None)])
    name, why = best_partner(store, league)  # scored, but undefined (scripted not surely better than random)
    assert name == top and "partner scores are undefined" in why and "no partner scores yet" not in why
    store.add_partner_scores(store.generation("default/alpha/g1")["id"], [score("alpha/g1", 0.9)])
    store.add_partner_scores(store.generation("default/beta/g2")["id"], [score("beta/g2", 0.4)])
    name, why = best_partner(store, league)
    assert name == "default/alpha/g1" and "0.90" in why
    assert store.best_partner_generation(league["id"])["partner_score"] == pytest.approx(0.9)
    # A word game's partner whose code a person guesses (natural style >= 0.9) comes before a better mean.
    natural = {**score("beta/g2", 0.92), "partner": "natural"}
    store.add_partner_scores(store.generation("default/beta/g2")["id"], [natural])
    name, why = best_partner(store, league)
    assert name == "default/beta/g2" and "natural one" in why and "0.92" in why
    store.add_partner_scores(store.generation("default/alpha/g2")["id"], [{**natural, "score": 0.85}])
    assert best_partner(store, league)[0] == "default/beta/g2"  # 0.85 is not natural enough to count
    store.ensure_league("empty", "simple_spread", {}, {})
    with pytest.raises(StoreError, match="no generations"):
        best_partner(store, store.league("empty"))
    one_error_line(run("play", "--league", "empty"), "no generations")
