"""simple_line and simple_formation: FormationBatch equal to mpe2 over whole episodes (discrete and continuous,
4 and 6 agents, random play and the plan), and the seat plans well ahead of random play."""

import numpy as np
import pytest

import games
from games.formation_core import FormationBatch
from games.parity import assert_core_matches_env, random_actions
from league.evaluate import eval_seeds, play, random_policy

GAMES = ["simple_line", "simple_formation"]


@pytest.mark.parametrize("name", GAMES)
@pytest.mark.parametrize("options", [{}, {"continuous_actions": True}, {"N": 6}, {"N": 2, "max_cycles": 40}])
def test_the_core_equals_mpe2_over_whole_episodes(name, options):
    spec = games.get(name)
    for policy, seeds in ((random_actions(seed=1), range(12)), (spec.scripted, range(12, 20))):
        report = assert_core_matches_env(spec, list(seeds), policy, **options)
        assert report.max_obs_difference <= 1e-6 and report.max_reward_difference <= 1e-6


@pytest.mark.parametrize("name, planned, noise", [("simple_line", -6.1, -22.5), ("simple_formation", -5.0, -18.4)])
def test_the_seat_plan_holds_the_shape_and_random_play_does_not(name, planned, noise):
    info = games.get(name).info()
    seeds = eval_seeds(200)
    plan = play(name, games.get(name).scripted, seeds, reference_env=False).mean()
    random = play(name, random_policy(info), seeds, reference_env=False).mean()
    assert abs(plan - planned) < 0.05 and abs(random - noise) < 0.5, (plan, random)


def test_options_the_core_does_not_cover_go_to_the_generic_runner():
    for name in GAMES:
        spec = games.get(name)
        assert spec.has_core() and not spec.has_core(N=7) and not spec.has_core(terminate_on_success=True)
        assert type(spec.batch(2, N=7)).__name__ == "VectorBatch"
    with pytest.raises(ValueError, match="line or circle"):
        FormationBatch(1, "square")


def test_the_circle_s_first_slot_follows_the_agent_at_the_smallest_angle():
    batch = FormationBatch(1, "circle", N=4)
    batch.reset([0])
    batch.world.landmarks[:] = 0.0
    batch.world.pos[0] = [[0.0, 0.3], [-0.2, 0.0], [0.0, -0.4], [0.1, 0.1]]  # angles 90, 180, 270, 45 degrees
    slots = batch.slots()[0]
    assert np.allclose(slots[0], 0.5 * np.array([np.cos(np.pi / 4), np.sin(np.pi / 4)]))
    assert np.allclose(np.linalg.norm(slots, axis=-1), 0.5)
