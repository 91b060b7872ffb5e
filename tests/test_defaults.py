"""Defaults for a game that declares nothing (`league.defaults`): chosen from the horizon and the number of
agents, and never for a game that has a preset or a batched core (the built-ins keep their settings)."""

import dataclasses
from pathlib import Path

import pytest

import games
from games.spec import GameInfo, GameSpec
from league.config import BOX_LR, GRPOConfig, with_preset
from league.defaults import BOX_SETTINGS, PICTURE_MINIBATCH, generic_preset, generic_preset_for

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def info(horizon: int, agents: int) -> GameInfo:
    names = tuple(f"walker_{i}" for i in range(agents))
    return GameInfo(names, {"walker": names}, {"walker": (8,)}, {"walker": 5}, horizon, 10)


BARE = GameSpec(name="bare", env_fn=lambda: None)  # declares nothing; the function never makes its env


@pytest.mark.parametrize("horizon, agents, groups, minibatch", [
    (20, 2, 8, 2560),  # 1280 / (8 * 20) = 8 groups; 8 * 8 * 20 * 2 agent-steps in one minibatch
    (12, 2, 13, 2496),  # 1280 / 96 = 13.3 -> 13; 13 * 8 * 12 * 2
    (1, 3, 32, 768),  # 160 groups, at most 32; 32 * 8 * 1 * 3
    (100, 1, 4, 3200),  # 1.6 -> 2 groups, at least 4; 4 * 8 * 100
    (900, 4, 4, 16384),  # 4 * 8 * 900 * 4 = 115,200 agent-steps, split in minibatches of 16,384
])
def test_groups_and_minibatch_follow_the_horizon_and_agents(horizon, agents, groups, minibatch):
    assert generic_preset(BARE, info(horizon, agents)) == {
        "groups": groups, "group_size": 8, "epochs": 8, "minibatch_size": minibatch, "threads": 1}


def test_a_game_with_a_preset_or_a_batched_core_gets_nothing():
    assert generic_preset(GameSpec(name="p", env_fn=lambda: None, preset={"lr": 0.01}), info(20, 2)) == {}
    assert generic_preset(GameSpec(name="c", env_fn=lambda: None, batch_core=lambda B, **kw: None), info(20, 2)) == {}


@pytest.mark.parametrize("name", games.names())
def test_built_in_games_keep_their_settings(name):
    spec = games.get(name)
    assert generic_preset(spec, spec.info()) == {}
    assert generic_preset_for({"game": name}) == {}


def test_built_in_option_sets_without_a_core_keep_their_settings_too():
    spread = games.get("simple_spread")
    assert not spread.has_core(num_landmark_neighbors=2)  # else this test would not test the vector runner case
    assert generic_preset_for({"game": "simple_spread", "game_kwargs": {"num_landmark_neighbors": 2}}) == {}


def test_the_examples_get_valid_settings_from_their_horizon(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    cover = generic_preset_for({"game": "cover:SPEC"})  # horizon 20 (found by play), 2 walkers
    assert (cover["groups"], cover["minibatch_size"]) == (8, 2560)
    guide = generic_preset_for({"game": "guide:SPEC"})  # horizon 12 (found by play), a guide and a walker
    assert (guide["groups"], guide["minibatch_size"]) == (13, 2496)
    config = GRPOConfig.from_dict({**cover, "game": "cover:SPEC"})
    assert (config.groups * config.group_size, config.epochs, config.threads) == (64, 8, 1)


def test_a_game_of_box_actions_on_the_vector_runner_takes_smaller_steps_and_looks_further_ahead():
    boxed = dataclasses.replace(info(500, 3), action_boxes={"walker": ((-1.0,) * 4, (1.0,) * 4)})
    assert generic_preset(BARE, boxed) == {**generic_preset(BARE, info(500, 3)), **BOX_SETTINGS}
    assert BOX_SETTINGS["lr"] < BOX_LR and BOX_SETTINGS["epochs"] < 8 and BOX_SETTINGS["gamma"] > GRPOConfig.gamma
    config = GRPOConfig(**with_preset({"game": "pettingzoo.sisl.multiwalker_v9:parallel_env"}))
    assert (config.lr, config.epochs, config.gamma, config.groups) == (0.0005, 4, 0.98, 4)  # over the preset's BOX_LR
    # a built-in game of Box actions on its core keeps its own settings
    assert GRPOConfig(**with_preset({"game": "simple_spread", "game_kwargs": {"continuous_actions": True}})).lr == BOX_LR


def test_a_game_seen_in_pictures_gets_updates_that_fit_in_memory():
    pictures = dataclasses.replace(info(20, 2), obs_shapes={"walker": (4 * 84 * 84,)}, images={"walker": (4, 84, 84)})
    small = generic_preset(BARE, pictures)  # 8 x 8 rollouts of 20 steps: 90 M numbers, within PICTURE_NUMBERS
    assert (small["groups"], small["group_size"], small["minibatch_size"]) == (8, 8, PICTURE_MINIBATCH)
    longer = generic_preset(BARE, dataclasses.replace(pictures, horizon=200))  # 11 rollouts fit: one group of 8
    assert (longer["groups"], longer["group_size"]) == (1, 8)
    # pistonball (20 pistons, 125 steps, 84x84x4 each): even one rollout is over, so one group of 2 (before:
    # 4 groups of 8, a 28.5 GiB update, refused); its settings validate, memory included
    config = GRPOConfig(**with_preset({"game": "pettingzoo.butterfly.pistonball_v6:parallel_env"})).validate()
    assert (config.groups, config.group_size, config.minibatch_size, config.lr) == (1, 2, PICTURE_MINIBATCH, 0.0005)


def test_no_game_or_an_unknown_one_gives_nothing_and_validation_says_why():
    assert generic_preset_for({}) == {}
    assert generic_preset_for({"game": "no_such_game"}) == {}
