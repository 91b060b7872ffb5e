"""Team policy: which network each role gets, and what the choose-and-steer mixture computes."""

import pytest
import torch

import games
from league.config import GRPOConfig
from league.grpo import new_policy
from league.policy import ChooseAndSteer, TeamPolicy


def test_simple_spread_gets_choose_and_steer_and_mlp_on_request():
    assert isinstance(new_policy(GRPOConfig()).nets["agent"], ChooseAndSteer)
    assert isinstance(new_policy(GRPOConfig(architecture="mlp")).nets["agent"], torch.nn.Sequential)
    # Options that change the observation's layout leave the game without declared targets.
    neighbours = GRPOConfig(game_kwargs={"num_landmark_neighbors": 2})
    assert isinstance(new_policy(neighbours).nets["agent"], torch.nn.Sequential)
    # Only the role that sees targets gets the mixture: the listener, not the speaker.
    two_roles = new_policy(GRPOConfig(game="simple_speaker_listener")).nets
    assert isinstance(two_roles["listener"], ChooseAndSteer) and isinstance(two_roles["speaker"], torch.nn.Sequential)
    # Games without targets keep plain MLPs for every role.
    assert all(isinstance(n, torch.nn.Sequential) for n in new_policy(GRPOConfig(game="pursuit")).nets.values())


def test_mixture_is_a_distribution_and_follows_its_parts():
    """log pi(a) = logsumexp_k(log p(k) + log steer(a | velocity, teammates, target_k)), computed by hand."""
    torch.manual_seed(0)
    net = ChooseAndSteer(obs_dim=18, ids=3, targets=(0, 4, 3, 10, 2), hidden=16, layers=2, steer_hidden=8,
                         n_actions=5)
    for p in net.parameters():  # away from the near-uniform start, so the parts differ
        torch.nn.init.normal_(p, std=0.5)
    x = torch.cat([torch.randn(7, 18), torch.eye(3)[torch.randint(0, 3, (7,))]], -1)  # (7, 21)
    logp = net(x)  # (7, 5)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(7), atol=1e-5)
    places, mates = x[:, 4:10].reshape(7, 3, 2), x[:, 10:14].reshape(7, 2, 2)
    distances = [float(torch.dist(places[i, k], agent)) for i in range(7)
                 for agent in (torch.zeros(2), mates[i, 0], mates[i, 1]) for k in range(3)]
    distances = torch.tensor(distances).reshape(7, 9)  # self to each target, then each teammate to each
    choice = torch.softmax(net.choose(torch.cat([x, distances], -1)), -1)  # (7, 3)
    by_hand = torch.zeros(7, 5)
    for k in range(3):
        steer = torch.softmax(net.steer(torch.cat([x[:, 0:2], x[:, 10:14], places[:, k]], -1)), -1)  # (7, 5)
        by_hand += choice[:, k : k + 1] * steer
    assert torch.allclose(logp.exp(), by_hand, atol=1e-5)
    # The choice sees the whole observation (here the silent channels, which steering never sees).
    talk = x.clone()
    talk[:, 14:18] = torch.randn(7, 4)
    assert not torch.allclose(net(talk), logp)


def test_untrained_policy_is_close_to_uniform():
    policy = new_policy(GRPOConfig())
    obs = torch.as_tensor(games.get("simple_spread").batch(4).reset([1, 2, 3, 4]))
    probs = torch.softmax(policy(obs), -1)  # (4, 3, 5)
    assert torch.allclose(probs, torch.full_like(probs, 0.2), atol=0.02)


def test_rebuilds_from_its_args_and_old_args_mean_mlp():
    policy = new_policy(GRPOConfig(hidden=16, steer_hidden=8))
    again = TeamPolicy(**policy.args)
    again.load_state_dict(policy.state_dict())
    x = torch.randn(2, 3, 18)
    assert torch.equal(again(x), policy(x))
    old = {k: v for k, v in policy.args.items() if k not in ("targets", "steer_hidden")}  # checkpoints before
    assert isinstance(TeamPolicy(**old).nets["agent"], torch.nn.Sequential)


@pytest.mark.parametrize("value", ["attention", ""])
def test_unknown_architecture_is_refused(value):
    from league.config import ConfigError

    with pytest.raises(ConfigError, match="architecture"):
        GRPOConfig(architecture=value).validate()


def test_targets_without_teammates():
    """A role that sees targets but no teammates (a lone listener) still gets a proper distribution."""
    net = ChooseAndSteer(obs_dim=11, ids=1, targets=(0, 2, 3, 0, 0), hidden=8, layers=1, steer_hidden=8, n_actions=5)
    logp = net(torch.cat([torch.randn(4, 11), torch.ones(4, 1)], -1))  # (4, 5)
    assert logp.shape == (4, 5) and torch.allclose(logp.exp().sum(-1), torch.ones(4), atol=1e-5)
