"""Game symmetries (games/symmetry.py) and Other-Play training (`other_play`): a declared relabelling maps whole
episodes onto equal-return episodes, one that is not a symmetry is refused, and Other-Play runs are reproducible."""

import dataclasses

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import games
from games.simple_speaker_listener import SPEC as SPEAKER_LISTENER, SpeakerListenerBatch
from games.symmetry import LandmarkLayout, SymmetryError, landmark_symmetries, prove_symmetry
from league.cli import cli
from league.config import ConfigError, GRPOConfig
from league.grpo import GroupPartners, relabelled_view, train, view_tables
from tests.conftest import one_error_line, weights_digest

WORD_GAMES = ["simple_speaker_listener", "simple_reference"]


@pytest.mark.parametrize("game", ["simple_spread", *WORD_GAMES])
def test_every_declared_relabelling_maps_whole_episodes_onto_equal_return_episodes(game):
    spec = games.get(game)
    symmetries = spec.symmetries()
    assert len(symmetries) == 6 and symmetries[0].is_identity()  # the 3! orders of three landmarks
    returns = [prove_symmetry(spec, s, seeds=range(24), seed=5) for s in symmetries]
    assert np.allclose(returns, returns[0])


def test_simple_spread_declares_a_relabelling_for_each_of_its_landmark_counts():
    spec = games.get("simple_spread")
    assert len(spec.symmetries(N=4)) == 24
    prove_symmetry(spec, spec.symmetries(N=4)[17], seeds=range(4), N=4)


def test_speaker_and_word_relabel_together():
    sigma = (2, 0, 1)
    s = next(s for s in SPEAKER_LISTENER.symmetries() if s.landmarks == sigma)
    assert list(s.actions["speaker"]) == [2, 0, 1]  # word k is word sigma[k]
    assert list(s.actions["listener"]) == [0, 1, 2, 3, 4]  # moves stay
    colour = np.array([0.65, 0.15, 0.15])  # the red landmark (0) is the goal
    assert list(colour[s.obs["speaker"]]) == [0.15, 0.15, 0.65]  # ... and is now blue (2 = sigma[0])
    reference = games.get("simple_reference").symmetries()[0]
    assert list(reference.actions["agent"]) == list(range(50))


class GoalZeroPaysDouble(SpeakerListenerBatch):
    """Not the same game under relabelling: reaching landmark 0 is worth twice as much."""

    def step(self, actions):
        obs, rewards, done = super().step(actions)
        return obs, rewards * np.where(self.goal == 0, 2.0, 1.0)[:, None].astype(np.float32), done


def test_a_relabelling_that_changes_returns_is_refused():
    spec = dataclasses.replace(SPEAKER_LISTENER, name="goal_zero_pays_double",
                               batch_core=lambda num_envs, **kw: GoalZeroPaysDouble(num_envs, kw["max_cycles"]))
    symmetries = spec.symmetries()
    prove_symmetry(spec, symmetries[0])  # the identity always holds
    moving_zero = [s for s in symmetries if s.landmarks[0] != 0]
    for s in moving_zero:
        with pytest.raises(SymmetryError, match="rewards differ"):
            prove_symmetry(spec, s)


def test_a_layout_that_forgets_the_word_heard_is_refused():
    info = SPEAKER_LISTENER.info()
    forgetful = landmark_symmetries(3, {"speaker": LandmarkLayout(blocks=((0, 1),), words=True),
                                        "listener": LandmarkLayout(blocks=((2, 2),))}, info)
    with pytest.raises(SymmetryError, match="observations differ"):
        prove_symmetry(SPEAKER_LISTENER, forgetful[1])


def test_a_core_that_cannot_relabel_cannot_be_checked():
    spec = games.get("pursuit")
    sym = SPEAKER_LISTENER.symmetries()[1]
    with pytest.raises(SymmetryError, match="no `relabel"):
        prove_symmetry(spec, sym)
    assert spec.symmetries() == []


def test_other_play_needs_a_game_with_symmetries_and_a_boolean(tmp_path):
    with pytest.raises(ConfigError, match="other_play needs a game that declares symmetries"):
        GRPOConfig(game="pursuit", other_play=True).validate()
    with pytest.raises(ConfigError, match="other_play must be true or false"):
        GRPOConfig.from_dict({"game": "simple_spread", "other_play": "yes"})
    for text, needle in [("[grpo]\ngame = \"pursuit\"\nother_play = true\n", "other_play needs"),
                         ("[grpo]\nother_play = 1\n", "other_play must be true or false")]:
        config = tmp_path / "c.toml"
        config.write_text(text)
        result = CliRunner().invoke(cli, ["train", "--config", str(config), "--db", str(tmp_path / "l.db"),
                                          "--checkpoints", str(tmp_path / "ck")])
        one_error_line(result, needle)
        assert not (tmp_path / "l.db").exists() or (tmp_path / "l.db").stat().st_size == 0


def test_the_view_relabels_every_seat_but_one_or_the_partners_seats():
    symmetries = SPEAKER_LISTENER.symmetries()
    M, G, n = 64, 2, 2
    who = np.where(np.arange(M) < 16, 0, -1)  # the first 16 groups play with a partner in seat 1
    seats = np.zeros((M * G, n), dtype=bool)
    seats[: 16 * G, 1] = True
    grouped = GroupPartners(who, seats, [], torch.as_tensor(~seats))
    tables = view_tables(symmetries, ["speaker", "listener"], 11)
    view = relabelled_view(tables, grouped, G, torch.Generator().manual_seed(0))
    identity = np.arange(11)
    relabelled = ~(view.obs_index == identity).all(-1)  # (B, n) seats that see a relabelled game
    assert not relabelled[: 16 * G, 0].any()  # the team's own seat in a partnered group sees the game
    assert relabelled.sum(-1).max() == 1  # never both seats: one sees the game as it is
    assert relabelled[16 * G:].any(0).all()  # in self-play either seat may be the relabelled one
    assert (view.obs_index[::G] == view.obs_index[1::G]).all()  # a group shares its symmetry
    obs = np.random.default_rng(0).random((M * G, n, 11)).astype(np.float32)
    seen = view.see(obs)
    for row in (0, 40, 100):
        for seat in range(n):
            assert np.array_equal(seen[row, seat], obs[row, seat, view.obs_index[row, seat]])
    # The speaker's seen word j means the landmark whose colour it sees in channel j: the game gets that word.
    assert (view.to_game[:, 0, :3] == view.obs_index[:, 0, :3]).all()
    assert (view.to_game[:, 1] == np.arange(5)).all()  # the listener's moves are the same in every relabelling
    words = np.stack([np.tile(np.arange(3), M * G // 3 + 1)[: M * G], np.zeros(M * G, dtype=int)], 1)  # (B, 2)
    assert (view.act(words)[:, 0] == view.obs_index[np.arange(M * G), 0, words[:, 0]]).all()


def test_other_play_training_is_reproducible_and_differs_from_self_play():
    cfg = GRPOConfig(game="simple_speaker_listener", groups=8, group_size=8, seed=2, other_play=True)
    partners = {"scripted": SPEAKER_LISTENER.scripted}
    first = weights_digest(train(cfg, max_env_steps=8000, partners=partners).policy)
    assert weights_digest(train(cfg, max_env_steps=8000, partners=partners).policy) == first
    plain = dataclasses.replace(cfg, other_play=False)
    assert weights_digest(train(plain, max_env_steps=8000, partners=partners).policy) != first
    # Without partners (from scratch, nobody whose code is fixed) Other-Play waits: the run is plain self-play.
    alone = weights_digest(train(cfg, max_env_steps=8000).policy)
    assert alone == weights_digest(train(plain, max_env_steps=8000).policy)


BROKEN_GAME = """
import dataclasses
from games.simple_speaker_listener import SPEC as BASE
from tests.test_symmetry import GoalZeroPaysDouble

SPEC = dataclasses.replace(BASE, name="broken_words:SPEC",
                           batch_core=lambda num_envs, **kw: GoalZeroPaysDouble(num_envs, kw["max_cycles"]))
"""


def test_other_play_on_a_game_whose_declared_relabelling_is_no_symmetry_is_one_error_line(tmp_path, monkeypatch):
    (tmp_path / "broken_words.py").write_text(BROKEN_GAME)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="other_play: .*is not a symmetry: the rewards differ"):
        GRPOConfig(game="broken_words:SPEC", other_play=True).validate()
    GRPOConfig(game="broken_words:SPEC", other_play=False).validate()  # without Other-Play it is a fine game
    config = tmp_path / "c.toml"
    config.write_text('[grpo]\ngame = "broken_words:SPEC"\nother_play = true\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--config", str(config), "--db", "l.db", "--checkpoints", "ck"])
    one_error_line(result, "is not a symmetry")
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize("declared, needle", [
    (lambda info, **kw: [SPEAKER_LISTENER.symmetries()[0].__class__((0, 1, 2), {"speaker": np.arange(3)}, {})],
     "action map of role 'speaker' must reorder its 3 action entries, got []"),
    (lambda info, **kw: [dataclasses.replace(SPEAKER_LISTENER.symmetries()[1],
                                             actions={"speaker": np.array([0, 0, 1]), "listener": np.arange(5)})],
     "action map of role 'speaker' must reorder"),
    (lambda info, **kw: 1 / 0, "ZeroDivisionError"),
    (lambda info, **kw: ["not a symmetry"], "AttributeError"),
])
def test_a_games_own_unusable_symmetries_are_one_game_error(declared, needle):
    spec = dataclasses.replace(SPEAKER_LISTENER, name="mine", symmetries_fn=declared)
    with pytest.raises(games.GameError, match="mine: its declared symmetries are unusable") as e:
        spec.symmetries()
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_the_word_games_presets_turn_other_play_on_only_where_it_can_run():
    from league.config import with_preset

    for game in WORD_GAMES:
        assert with_preset({"game": game})["other_play"] is True
        continuous = with_preset({"game": game, "game_kwargs": {"continuous_actions": True}})
        assert "other_play" not in continuous  # Box actions have no relabelling yet: the preset does not ask for it
        assert not GRPOConfig.from_dict(continuous).other_play  # Box actions train, without Other-Play
    assert "other_play" not in with_preset({"game": "simple_spread"})
