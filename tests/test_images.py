"""Image observations: read off the space, prepared as the game declares (downscale, grey, frame stack), read by
a CNN, recorded with checkpoints; a team that learns what only two stacked frames show (tests/picture_game.py)."""

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from gymnasium.spaces import Box

import games
from conftest import one_error_line
from games.frames import Downscale, Frames, image_shape
from league.checkpoints import CheckpointError, check_payload, make_payload
from league.cli import cli
from league.config import GRPOConfig
from league.evaluate import eval_seeds, play, random_policy
from league.grpo import train
from league.matches import duplicate_match
from league.policy import ImageNet, TeamPolicy, conv_layers
from league.replays import resimulate

GAME = "picture_game:SPEC"


def test_pictures_are_read_off_the_space_and_prepared_as_the_game_declares():
    assert image_shape(Box(0, 255, (457, 120, 3), np.uint8)) == (457, 120, 3)
    assert image_shape(Box(0, 255, (64, 48), np.uint8)) == (64, 48)
    for not_a_picture in (Box(0, 1, (7, 7, 3), np.float32),  # pursuit's grid of numbers
                          Box(0, 255, (7, 7, 3), np.uint8),  # too small to be a picture
                          Box(0, 255, (32, 32, 5), np.uint8), Box(0, 255, (32,), np.uint8)):
        assert image_shape(not_a_picture) is None
    info = games.get(GAME).info()
    assert info.obs_shapes == info.images == {"lamp": (2, 16, 16)}
    assert info.frames == {"height": 16, "width": 16, "grey": True, "stack": 2}
    pong = games.get("pettingzoo.butterfly.cooperative_pong_v6:parallel_env").info()  # declares nothing: defaults
    assert pong.images == {"paddle": (4, 84, 84)} and pong.frames["stack"] == 4
    out = CliRunner().invoke(cli, ["games", "--game", GAME]).output
    assert "obs (2, 16, 16) (pictures: grey 16x16, 2 frames)" in out
    assert games.get("simple_spread").info().images == {}  # vectors stay vectors


def test_downscaling_averages_each_band_and_grey_is_luma():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (31, 21, 3), dtype=np.uint8)
    colour = Downscale(image.shape, Frames(height=4, width=3, grey=False, stack=1))(image)  # (3, 4, 3)
    rows, cols = [0, 7, 15, 23, 31], [0, 7, 14, 21]  # floor(k * 31 / 4), floor(k * 21 / 3)
    expected = np.array([[[image[rows[i]:rows[i + 1], cols[j]:cols[j + 1], c].mean() / 255 for j in range(3)]
                          for i in range(4)] for c in range(3)])
    assert colour.shape == (3, 4, 3) and colour.dtype == np.float32
    np.testing.assert_allclose(colour, expected, rtol=1e-5)
    grey = Downscale(image.shape, Frames(height=4, width=3, grey=True, stack=1))(image)
    np.testing.assert_allclose(grey[0], np.tensordot([0.299, 0.587, 0.114], expected, 1), rtol=1e-5)
    assert Frames(height=100, width=100).shape((31, 21, 3)) == (4, 31, 21)  # never upscaled


def test_frames_stack_newest_last_and_a_new_episode_never_sees_the_last_one():
    env = games.get(GAME).make_env()
    obs, _ = env.reset(seed=3)
    first = obs["lamp_0"]
    assert first.shape == (2, 16, 16) and np.array_equal(first[0], first[1])  # the first frame fills the stack
    obs, *_ = env.step({"lamp_0": 0, "lamp_1": 0})
    assert np.array_equal(obs["lamp_0"][0], first[1]) and not np.array_equal(obs["lamp_0"][1], first[1])
    assert env.observation_space("lamp_0").shape == (2, 16, 16)
    obs, _ = env.reset(seed=3)
    assert np.array_equal(obs["lamp_0"], first)
    assert env.render().shape == (32, 64, 3)  # the viewer still gets the env's own frame


def test_a_cnn_team_learns_what_only_two_stacked_frames_show():
    """50k steps, seed 1: the 2-frame team names the quadrant lit before (8 of 8 points; random play 2); the
    same game seen one frame at a time cannot do better than guessing it (2.75 at most)."""
    info = games.get(GAME).info()
    config = GRPOConfig(game=GAME, seed=1, threads=1)
    first, second = train(config, max_env_steps=50_000), train(config, max_env_steps=50_000)
    assert isinstance(first.policy.nets["lamp"], ImageNet)
    for a, b in zip(first.policy.state_dict().values(), second.policy.state_dict().values()):
        assert torch.equal(a, b)
    seeds = eval_seeds(50)
    greedy = play(GAME, first.policy.numpy_policy(), seeds).mean()
    random = play(GAME, random_policy(info), seeds).mean()
    assert play(GAME, games.get(GAME).scripted, seeds).mean() == 8.0
    assert greedy >= 7.0 > 2.5 > random, (greedy, random)
    one = train(GRPOConfig(game="picture_game:ONE_FRAME", seed=1, threads=1), max_env_steps=50_000)
    assert play("picture_game:ONE_FRAME", one.policy.numpy_policy(), seeds).mean() < 3.5


def test_the_cnn_fits_any_picture_and_counts_its_layers():
    assert conv_layers((4, 84, 84)) == [(16, 42, 42), (32, 21, 21), (32, 11, 11), (32, 6, 6)]
    assert conv_layers((1, 8, 200)) == []  # a side of 8: the picture goes to the features as it is
    for shape in ((4, 84, 84), (1, 8, 200), (3, 457, 120)):
        net = ImageNet(shape, 2, 16, 2, 5)
        assert net(torch.zeros(3, 2, int(np.prod(shape)) + 2)).shape == (3, 2, 5)


def test_matches_of_picture_teams_resimulate():
    info = games.get(GAME).info()
    team = TeamPolicy.for_game(info, hidden=16)
    result = duplicate_match(GAME, {}, team.numpy_policy(deterministic=False), random_policy(info, seed=2), [4, 5])
    assert all(resimulate(e) is None for e in result.episodes)


def test_checkpoints_record_the_frames_and_refuse_pictures_of_another_shape():
    info = games.get(GAME).info()
    team = TeamPolicy.for_game(info, hidden=16)
    payload = make_payload(team, GAME, {}, {})
    assert payload["frames"] == info.frames and payload["policy_args"]["images"] == {"lamp": [2, 16, 16]}
    check_payload(payload, GAME, {})
    other = {**payload, "frames": {**payload["frames"], "stack": 3}}  # prepared another way than the game does
    shown = r"lamp 2x16x16 \(grey 16x16, 3 frames\); the game gives pictures lamp 2x16x16 \(grey 16x16, 2 frames\)"
    with pytest.raises(CheckpointError, match=shown):
        check_payload(other, GAME, {})
    args = payload["policy_args"]
    wide = {**payload, "policy_args": {**args, "images": {"lamp": [2, 8, 32]}}}  # as many numbers, another shape
    with pytest.raises(CheckpointError, match="lamp 2x8x32"):
        check_payload(wide, GAME, {})
    for bad in ([3, 16, 16], [2, 16], [2, 16, True], "2x16x16"):
        with pytest.raises(CheckpointError, match="is not the \\(channels, height, width\\)"):
            check_payload({**payload, "policy_args": {**args, "images": {"lamp": bad}}}, GAME, {})
    with pytest.raises(CheckpointError, match="prepared in no recorded way"):  # not how they were made
        check_payload({k: v for k, v in payload.items() if k != "frames"}, GAME, {})
    mlp = TeamPolicy.for_game(info, hidden=16, use_targets=False)  # `architecture = "mlp"`: no CNN, still recorded
    assert "images" not in mlp.args
    check_payload(make_payload(mlp, GAME, {}, {}), GAME, {})
    with pytest.raises(CheckpointError, match="weights do not fit"):  # a CNN's weights, its images taken away
        check_payload({**payload, "policy_args": {k: v for k, v in args.items() if k != "images"}}, GAME, {})


@pytest.mark.parametrize("entry, needle", [("TALL", "frames height must be a whole number from 1 to 512"),
                                           ("NO_FRAMES", "frames stack must be"),
                                           ("GREY_WORD", "frames grey must be true or false"),
                                           ("HUGE", "are 1,572,864 numbers, more than 1,000,000")])
def test_frames_a_game_cannot_be_prepared_with_are_one_error_line(entry, needle):
    one_error_line(CliRunner().invoke(cli, ["games", "--game", f"picture_game:{entry}"]), needle)


def test_a_picture_league_trains_rates_and_its_matches_resimulate(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, GAME, generations=1, steps_per_generation=20_000, opponents=["random"],
                                 match_seeds=1)
    episodes = [e for m in store.matches(manager.league["id"]) for e in store.episodes(m["id"])]
    assert episodes and all(resimulate(e) is None for e in episodes)


def test_the_memory_estimate_counts_the_cnn_s_activations():
    from league.policy import conv_layers
    from league.resources import check_resources

    cnn, mlp = (check_resources(GRPOConfig(game=GAME, architecture=kind)) for kind in ("auto", "mlp"))
    per_step = sum(c * h * w for c, h, w in conv_layers((2, 16, 16)))  # 16 x 8 x 8
    assert per_step == 1024
    agent_steps = 32 * 16 * 8 * 2  # groups x group_size x horizon x agents: less than a minibatch
    assert cnn.training_bytes - mlp.training_bytes >= agent_steps * per_step * 16  # outputs, ReLUs, gradients
