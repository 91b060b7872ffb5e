"""Team policy: which network each role gets, and what the choose-and-steer mixture computes."""

import pytest
import torch

import games
from games.spec import Entities, Targets
from league.config import GRPOConfig
from league.grpo import new_policy
from league.policy import LAYOUTS, ChooseAndSteer, TeamPolicy, named_layout


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
    targets = Targets(velocity=0, first=4, count=3, teammates=10, teammate_count=2)
    net = ChooseAndSteer(obs_dim=18, ids=3, targets=targets, hidden=16, layers=2, steer_hidden=8, n_actions=5)
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
    net = ChooseAndSteer(obs_dim=11, ids=1, targets=Targets(velocity=0, first=2, count=3), hidden=8, layers=1,
                         steer_hidden=8, n_actions=5)
    logp = net(torch.cat([torch.randn(4, 11), torch.ones(4, 1)], -1))  # (4, 5)
    assert logp.shape == (4, 5) and torch.allclose(logp.exp().sum(-1), torch.ones(4), atol=1e-5)


def test_move_and_say_is_the_product_of_a_move_and_a_word():
    """simple_reference: log pi(move + 5 * word) = log pi_move(move) + log pi_word(word), by hand."""
    from league.policy import MoveAndSay

    assert isinstance(new_policy(GRPOConfig(game="simple_reference")).nets["agent"], MoveAndSay)
    assert isinstance(new_policy(GRPOConfig(game="simple_reference", architecture="mlp")).nets["agent"],
                      torch.nn.Sequential)
    torch.manual_seed(0)
    net = MoveAndSay(obs_dim=21, ids=2, targets=Targets(velocity=0, first=2, count=3, moves=5), hidden=16, layers=2,
                     steer_hidden=8, n_actions=50)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.5)
    x = torch.cat([torch.randn(6, 21), torch.eye(2)[torch.randint(0, 2, (6,))]], -1)  # (6, 23)
    logp = net(x)  # (6, 50)
    assert logp.shape == (6, 50) and torch.allclose(logp.exp().sum(-1), torch.ones(6), atol=1e-5)
    move, word = net.move(x).exp(), torch.softmax(net.say(x), -1)  # (6, 5), (6, 10)
    for action in (0, 4, 7, 23, 49):
        assert torch.allclose(logp[:, action].exp(), move[:, action % 5] * word[:, action // 5], atol=1e-6)
    with pytest.raises(ValueError, match="moves x words"):
        MoveAndSay(obs_dim=21, ids=2, targets=Targets(velocity=0, first=2, count=3, moves=7), hidden=8, layers=1,
                   steer_hidden=8, n_actions=50)


@pytest.mark.parametrize("scored", [False, True])
def test_choose_and_act_mixes_over_the_targets_present(scored):
    """pi(a) = sum over present target rows k and "none" of p(k) act(a | own row, row k), by hand; an empty
    slot (a row of zeros) gets no weight, whatever the choose net scores it. `scored`: p(k) also counts the
    score the act net gives row k (its extra output), the same net for every slot."""
    from league.policy import ChooseAndAct

    torch.manual_seed(0)
    entities = Entities(own=0, first=2, count=2, width=5, aspect=0.0)  # aspect 0: no aiming inputs
    net = ChooseAndAct(obs_dim=20, ids=2, entities=entities, hidden=16, layers=2, act_hidden=8, n_actions=6,
                       scored=scored)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.5)
    table = torch.randn(3, 4, 5)  # rows: self, a teammate, two target slots
    table[1, 3] = 0.0  # game 1: second slot empty
    table[2, 2:] = 0.0  # game 2: no target at all
    x = torch.cat([table.flatten(1), torch.eye(2)[[0, 1, 0]]], -1)  # (3, 22)
    logp = net(x)  # (3, 6)
    assert logp.shape == (3, 6) and torch.allclose(logp.exp().sum(-1), torch.ones(3), atol=1e-5)
    scores = net.choose(x)  # (3, 3): slot 0, slot 1, none
    by_hand = torch.zeros(3, 6)
    for g in range(3):
        present = [k for k in range(2) if table[g, 2 + k].abs().sum() > 0]
        outs = [net.act(torch.cat([table[g, 0], table[g, 2 + k], torch.ones(1)])) for k in present]
        outs.append(net.act(torch.cat([table[g, 0], torch.zeros(5), torch.zeros(1)])))  # none
        own_scores = torch.stack([o[6] for o in outs]) if scored else 0.0
        choice = torch.softmax(scores[g, present + [2]] + own_scores, -1)
        for weight, out in zip(choice, outs):
            by_hand[g] += weight * torch.softmax(out[:6], -1)
    assert torch.allclose(logp.exp(), by_hand, atol=1e-5)
    # slots that no row of a batch fills are skipped: games 1 and 2 alone (no second zombie; none at all) give
    # what they gave beside game 0
    assert torch.allclose(net(x[1:]), logp[1:], atol=1e-6) and torch.allclose(net(x[2:]), logp[2:], atol=1e-6)
    with pytest.raises(ValueError, match="no rows"):
        ChooseAndAct(obs_dim=20, ids=2, entities=Entities(own=0, first=3, count=2, width=5), hidden=8, layers=1,
                     act_hidden=8, n_actions=6, scored=True)


def test_knights_archers_zombies_gets_choose_and_act_and_old_args_rebuild_mlps():
    from league.policy import ChooseAndAct

    policy = new_policy(GRPOConfig(game="knights_archers_zombies", hidden=16, steer_hidden=8))
    assert all(isinstance(net, ChooseAndAct) for net in policy.nets.values())
    # self, 2 archers, 2 knights, 2 maces, 10 arrows; the table's aspect (720 / 1280 px); rows score themselves
    assert policy.args["entities"]["archer"] == {"own": 0, "first": 17, "count": 10, "width": 5, "aspect": 0.5625,
                                                 "scored": True}
    assert policy.nets["archer"].act[0].in_features == 2 * 5 + 1 + 2  # own row, target row, flag, cross, dot
    assert policy.nets["archer"].act[-1].out_features == 6 + 1  # the actions, then the row's score
    again = TeamPolicy(**policy.args)
    again.load_state_dict(policy.state_dict())
    obs = torch.as_tensor(games.get("knights_archers_zombies").batch(2).reset([1, 2]))  # (2, 4, 135)
    assert torch.equal(again(obs), policy(obs))
    # checkpoints from before aiming (4 numbers) and before rows scored themselves (5 numbers), as they stored them
    before_aim = {**policy.args, "entities": {"archer": [0, 17, 10, 5], "knight": [0, 17, 10, 5]}}
    assert all(net.act[0].in_features == 11 for net in TeamPolicy(**before_aim).nets.values())  # no aiming inputs
    assert all(net.act[-1].out_features == 6 for net in TeamPolicy(**before_aim).nets.values())
    before_score = {**policy.args, "entities": {"archer": [0, 17, 10, 5, 0.5625], "knight": [0, 17, 10, 5, 0.5625]}}
    assert all(net.act[0].in_features == 13 for net in TeamPolicy(**before_score).nets.values())
    assert all(net.act[-1].out_features == 6 for net in TeamPolicy(**before_score).nets.values())
    old = {k: v for k, v in policy.args.items() if k != "entities"}  # checkpoints before ChooseAndAct
    assert all(isinstance(net, torch.nn.Sequential) for net in TeamPolicy(**old).nets.values())
    masked = new_policy(GRPOConfig(game="knights_archers_zombies", game_kwargs={"obs_method": "vector-masked"}))
    assert all(isinstance(net, torch.nn.Sequential) for net in masked.nets.values())
    # simple_spread's stored arguments are unchanged by the new kinds of network
    assert "entities" not in new_policy(GRPOConfig()).args


def test_choose_and_act_aims_with_the_angle_to_each_zombie():
    """The act net's last two inputs are sin and cos of the angle between the agent's heading and a zombie's
    direction, measured in true proportions (y is in units of 720 px, x of 1280 px)."""
    from league.policy import ChooseAndAct

    net = ChooseAndAct(15, 1, Entities(own=0, first=1, count=2, width=5, aspect=0.5), hidden=4, layers=1, act_hidden=4,
                       n_actions=3, scored=False)
    seen = []
    net.act.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    own = [0, 0.5, 0.5, 0.0, -1.0]  # facing up (y grows downward)
    ahead = [0.1, 0.0, -0.2, 0.0, 1.0]  # straight up from the agent
    up_right = [0.1, 0.2, -0.4, 0.0, 1.0]  # 0.2 right, 0.4 x 0.5 = 0.2 up: an eighth of a turn clockwise
    net(torch.tensor([own + ahead + up_right + [1.0]]))
    features = seen[0][0, :, -2:]  # (K + 1, 2): cross, dot per row (last row: none)
    half = 0.5**0.5
    torch.testing.assert_close(features, torch.tensor([[0.0, 1.0], [half, half], [0.0, 0.0]]))


def test_layouts_are_named_after_the_game_declarations():
    """The names `args` stores are the fields of `games.spec.Targets` and `Entities` (and `scored`)."""
    from dataclasses import fields

    assert list(LAYOUTS["targets"]) == [f.name for f in fields(Targets)]
    assert list(LAYOUTS["entities"]) == [f.name for f in fields(Entities)] + ["scored"]


@pytest.mark.parametrize("kind, old, named", [
    ("targets", [0, 4, 3, 10, 2], dict(velocity=0, first=4, count=3, teammates=10, teammate_count=2, moves=0)),
    ("targets", [0, 2, 3, 0, 0, 5], dict(velocity=0, first=2, count=3, teammates=0, teammate_count=0, moves=5)),
    ("entities", [0, 17, 10, 5], dict(own=0, first=17, count=10, width=5, aspect=0.0, scored=False)),
    ("entities", [0, 17, 10, 5, 0.5625], dict(own=0, first=17, count=10, width=5, aspect=0.5625, scored=False)),
    ("entities", [0, 17, 10, 5, 0.5625, 1.0], dict(own=0, first=17, count=10, width=5, aspect=0.5625, scored=True)),
])
def test_named_layout_reads_every_list_old_checkpoints_hold(kind, old, named):
    assert named_layout(kind, old) == named
    assert named_layout(kind, tuple(old)) == named
    assert named_layout(kind, named) == named and list(named_layout(kind, named)) == list(LAYOUTS[kind])
    assert all(type(named_layout(kind, old)[k]) is cast for k, cast in LAYOUTS[kind].items())


@pytest.mark.parametrize("kind, bad", [
    ("targets", [0, 4, 3]), ("targets", [0, 4, 3, 10, 2, 5, 1]), ("entities", [0, 17, 10]),
    ("entities", [0, 17, 10, 5, 0.5, 1, 1]), ("targets", {"velocity": 0, "first": 4, "count": 3}),
    ("entities", {**dict(own=0, first=17, count=10, width=5, aspect=0.5, scored=True), "heads": 2}),
])
def test_named_layout_refuses_what_no_checkpoint_wrote(kind, bad):
    with pytest.raises(ValueError, match=kind):
        named_layout(kind, bad)


@pytest.mark.parametrize("game, old", [
    ("simple_spread", {"targets": {"agent": [0, 4, 3, 10, 2]}}),
    ("simple_reference", {"targets": {"agent": [0, 2, 3, 0, 0, 5]}}),
    ("knights_archers_zombies", {"targets": {}, "entities": {"archer": [0, 17, 10, 5, 0.5625, 1.0],
                                                             "knight": [0, 17, 10, 5, 0.5625, 1.0]}}),
])
def test_old_positional_args_build_the_same_network_by_name(game, old):
    """Args as the old checkpoints stored them (positional lists) build, from the same seed, the very weights
    `new_policy` draws: same networks, parameters made in the same order; `args` holds them by name."""
    cfg = GRPOConfig(game=game, hidden=16, steer_hidden=8)
    policy = new_policy(cfg)
    torch.manual_seed(cfg.seed)
    again = TeamPolicy(**{**policy.args, **old})
    assert again.args == policy.args and isinstance(again.args["targets"], dict)
    assert [type(n) for n in again.nets.values()] == [type(n) for n in policy.nets.values()]
    mine, theirs = policy.state_dict(), again.state_dict()
    assert list(mine) == list(theirs) and all(torch.equal(mine[k], theirs[k]) for k in mine)
    if game == "simple_spread":  # choose: 18 numbers, 3 ids, 3 landmarks x (self + 2 teammates) distances
        net = policy.nets["agent"]  # steer: own velocity, 2 teammates, one landmark
        assert net.choose[0].in_features == 18 + 3 + 3 * 3 and net.steer[0].in_features == 2 + 2 * 2 + 2
