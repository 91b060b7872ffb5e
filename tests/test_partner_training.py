"""Training with population partners: partners fill only their seats, only the team's seats are trained, the
league draws its pool and records it, same seed = same result, bad settings are one error line."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import games
import league.grpo as grpo
from league.cli import cli
from league.config import ConfigError, GRPOConfig, LeagueConfig
from league.grpo import draw_partners, partner_weights, train
from league.manager import LeagueManager
from tests.conftest import one_error_line

SMALL = dict(groups=8, group_size=4, threads=1)


def constant_policy(n_actions: int, action: int):
    """A partner that proposes `action` in every seat and records the batch rows it was asked about."""
    calls: list[int] = []

    def policy(obs: np.ndarray, info=None) -> np.ndarray:
        calls.append(len(obs))
        return np.full(obs.shape[:2], action, dtype=np.int64)

    policy.calls = calls
    return policy


class RecordingBatch:
    """Wraps a batched core and keeps every actions array it is stepped with."""

    def __init__(self, inner):
        self.inner, self.actions = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def step(self, actions):
        self.actions.append(np.array(actions))
        return self.inner.step(actions)


def test_partners_fill_only_their_seats(monkeypatch):
    spec = games.get("simple_spread")
    made: list[RecordingBatch] = []
    original = type(spec).batch
    monkeypatch.setattr(type(spec), "batch", lambda self, B, **kw: made.append(RecordingBatch(
        original(self, B, **kw))) or made[-1])
    cfg = GRPOConfig(**SMALL, partner_share=0.5, partner_seats=1)
    # The team always says 0 (a huge bias on action 0), the partner always 4: seats show who acted.
    policy = grpo.new_policy(cfg)
    for net in policy.nets.values():
        for module in net.modules():
            if isinstance(module, torch.nn.Linear) and module.out_features == 5:
                module.bias.data[:] = torch.tensor([50.0, 0, 0, 0, 0])
    partner = constant_policy(5, 4)
    train(cfg, max_env_steps=1, policy=policy, partners={"p": partner})
    acts = np.stack(made[0].actions)  # (T, B, n)
    marked = (acts == 4).reshape(acts.shape[0], cfg.groups, cfg.group_size, -1)  # (T, M, G, n)
    partnered = marked.any(axis=(0, 2, 3))  # (M,)
    assert partnered.sum() == round(0.5 * cfg.groups)  # the first half of the groups
    assert partnered[: cfg.groups // 2].all()
    per_group = marked[:, partnered]  # (T, k, G, n)
    assert (per_group.sum(-1) == 1).all()  # exactly one seat, every step
    assert (per_group == per_group[:1, :, :1]).all()  # the same seat for all rows and steps of a group
    assert (acts[(acts != 4)] == 0).all()  # everyone else is the team
    assert sum(partner.calls) == acts.shape[0] * round(0.5 * cfg.groups) * cfg.group_size


def test_partner_seats_get_no_gradient(monkeypatch):
    """The partner always takes the speaker's seat: the speaker's network must not move, the listener's must."""
    def speaker_seat(M, share, n, seats, weights, generator):
        who, mask = np.full(M, -1), np.zeros((M, n), dtype=bool)
        who[:] = 0
        mask[:, 0] = True
        return who, mask

    monkeypatch.setattr(grpo, "draw_partners", speaker_seat)
    cfg = GRPOConfig(game="simple_speaker_listener", **SMALL, partner_share=1.0)
    policy = grpo.new_policy(cfg)
    before = {k: v.clone() for k, v in policy.state_dict().items()}
    partner_team = grpo.new_policy(cfg)
    partner_before = {k: v.clone() for k, v in partner_team.state_dict().items()}
    train(cfg, max_env_steps=2000, policy=policy, partners={"p": partner_team.numpy_policy()})
    after = policy.state_dict()
    speaker = [k for k in before if k.startswith("nets.speaker")]
    listener = [k for k in before if k.startswith("nets.listener")]
    assert speaker and listener
    assert all(torch.equal(before[k], after[k]) for k in speaker)
    assert any(not torch.equal(before[k], after[k]) for k in listener)
    assert all(torch.equal(partner_before[k], v) for k, v in partner_team.state_dict().items())


def test_same_seed_same_result_with_partners():
    cfg = GRPOConfig(game="simple_speaker_listener", **SMALL, partner_draw="prioritized")
    scripted = games.get("simple_speaker_listener")

    def run():
        partners = {"scripted": games.get("simple_speaker_listener").scripted,
                    "other": grpo.new_policy(GRPOConfig(game="simple_speaker_listener", seed=5)).numpy_policy()}
        result = train(cfg, max_env_steps=3000, partners=partners)
        return result.policy.state_dict(), result.metrics

    (a, ma), (b, mb) = run(), run()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [m["partner_return"] for m in ma] == [m["partner_return"] for m in mb]
    assert scripted is not None and all("self_return" in m for m in ma)


def test_prioritized_draw_prefers_the_worst_partner():
    weights = partner_weights("prioritized", [[5.0, 6.0], [-3.0], []])
    assert weights[2] == 1.0  # never played: first
    assert weights[1] > weights[0]  # worse return: drawn more
    assert (partner_weights("uniform", [[1.0], []]) == 1).all()
    assert partner_weights("uniform", []) is None
    gen = torch.Generator().manual_seed(0)
    who, mask = draw_partners(10, 0.3, 3, 2, np.array([1.0, 0.0]), gen)
    assert list(who) == [0, 0, 0] + [-1] * 7 and mask.sum(1).tolist() == [2] * 3 + [0] * 7


@pytest.mark.parametrize("change, needle", [
    ({"partner_share": 1.5}, "partner_share"),
    ({"partner_draw": "best"}, "partner_draw"),
    ({"partner_seats": 3}, "partner_seats"),
    ({"partner_pool": -1}, "partner_pool"),
])
def test_bad_partner_settings(change, needle):
    with pytest.raises(ConfigError, match=needle):
        GRPOConfig(**change).validate()


def test_bad_partner_setting_is_one_error_line(tmp_path):
    (tmp_path / "league.toml").write_text("[grpo]\npartner_draw = 'best'\n")
    result = CliRunner().invoke(cli, ["train", "--config", str(tmp_path / "league.toml"), "--db",
                                      str(tmp_path / "l.db"), "--checkpoints", str(tmp_path / "ck")])
    one_error_line(result, "partner_draw")
    assert not (tmp_path / "l.db").exists()


def test_league_trains_with_its_population_and_records_it(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, grpo=GRPOConfig(**SMALL), teams=2, generations=2,
                                 steps_per_generation=1500, match_seeds=2, opponents=["parent"])
    named = {g["name"]: g for g in store.generations(manager.league["id"])}
    partners = {name: sorted(store.generation_partners(g["id"])) for name, g in named.items()}
    # Each job is made when its parent is recorded (both g1s at the start): the pool is what is recorded then.
    assert partners["default/alpha/g1"] == partners["default/beta/g1"] == []  # nothing trained yet: self-play
    assert partners["default/alpha/g2"] == ["scripted"]  # never its own parent
    assert partners["default/beta/g2"] == ["default/alpha/g1", "scripted"]
    shown = CliRunner().invoke(cli, ["show", "beta/g2", "--db", str(tmp_path / "league.db"), "--json"])
    assert json.loads(shown.output)["trained_with"] == ["default/alpha/g1", "scripted"]
    alone = LeagueConfig(teams=2, generations=2, steps_per_generation=1500, match_seeds=2, opponents=["parent"],
                         team_grpo={"beta": {"partner_share": 0.0}}, grpo=GRPOConfig(**SMALL))
    manager = LeagueManager(store, alone, tmp_path / "ck")  # the same league, beta now self-play only
    assert manager.partner_pool(manager.teams[1]) == []
    assert manager.partner_pool(manager.teams[0]) == ["default/beta/g2", "default/beta/g1",
                                                      "default/alpha/g1", "scripted"]
