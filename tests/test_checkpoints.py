"""Checkpoints: self-describing, atomic, hash-checked, loaded without executing pickled code; load_team API."""

import pickle

import numpy as np
import pytest
import torch

import games
from league import load_team
from league.checkpoints import (FORMAT_VERSION, CheckpointError, load_checkpoint, make_payload, payload_bytes,
                                payload_from_bytes, policy_from_payload, save_checkpoint, save_generation_checkpoint,
                                sha256_file)
from league.config import GRPOConfig
from league.grpo import new_policy


@pytest.fixture
def saved(tmp_path):
    cfg = GRPOConfig(hidden=16)
    policy = new_policy(cfg)
    path = tmp_path / "team" / "g0.pt"
    digest = save_checkpoint(path, make_payload(policy, cfg.game, cfg.game_kwargs, cfg.to_dict()))
    return path, digest, policy


def test_checkpoint_describes_itself_and_round_trips(saved):
    path, digest, policy = saved
    assert digest == sha256_file(path)
    payload = load_checkpoint(path, digest)
    assert payload["game"] == "simple_spread" and payload["config"]["hidden"] == 16
    assert payload["policy_args"]["agents"] == ["agent_0", "agent_1", "agent_2"]
    assert {"torch", "pettingzoo", "mpe2"} <= set(payload["versions"])
    team = load_team(path, digest)
    x = torch.randn(5, 3, 18)
    assert torch.equal(team(x), policy(x))
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_load_team_plays_the_pettingzoo_env(saved):
    team = load_team(saved[0])
    env = games.get(team.game).make_env(**team.game_kwargs)
    obs, _ = env.reset(seed=3)
    steps = 0
    while env.agents:
        actions = team.act(obs)
        assert set(actions) == set(env.agents) and all(0 <= a < 5 for a in actions.values())
        obs, *_ = env.step(actions)
        steps += 1
    assert steps == 25
    assert team.act({}) == {}  # no live agents, no actions


def test_tampered_checkpoint_names_file_and_expected_hash(saved):
    path, digest, _ = saved
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path, digest)
    assert str(path) in str(e.value) and digest in str(e.value)


def test_truncated_checkpoint_is_refused(saved):
    path, digest, _ = saved
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=digest):
        load_checkpoint(path, digest)
    with pytest.raises(CheckpointError, match="not a loadable"):
        load_checkpoint(path)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")


class Exploit:
    """Unpickling this runs `open(marker, 'w')`: what a malicious checkpoint would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_code_in_a_checkpoint_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "coop-league-checkpoint", "state_dict": Exploit(str(marker))}, path)
    with pytest.raises(CheckpointError, match="not a loadable"):
        load_team(path)
    assert not marker.exists()
    with open(tmp_path / "plain.pkl", "wb") as f:  # a plain pickle, not even a torch file
        pickle.dump(Exploit(str(marker)), f)
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "plain.pkl")
    assert not marker.exists()


def test_foreign_torch_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not a coop-league-checkpoint"):
        load_checkpoint(path)


def test_numpy_policy_matches_act(saved):
    team = load_team(saved[0])
    env = games.get("simple_spread").make_env()
    obs, _ = env.reset(seed=5)
    batched = np.stack([obs[a] for a in env.possible_agents])[None]
    assert team.numpy_policy()(batched)[0].tolist() == [team.act(obs)[a] for a in env.possible_agents]


def test_generation_checkpoints_are_named_by_content(tmp_path, saved):
    _, _, policy = saved
    cfg = GRPOConfig(hidden=16)
    target = tmp_path / "shared" / "g1.pt"
    saved_files = []
    for note in ("db a", "db b"):
        data, digest = payload_bytes(make_payload(policy, cfg.game, {}, cfg.to_dict(), note=note))
        saved_files.append((save_generation_checkpoint(target, data, digest), digest))
    assert saved_files[0][0] != saved_files[1][0] and saved_files[0][0].is_absolute()  # no overwrites
    for path, digest in saved_files:
        assert path.name == f"g1-{digest[:12]}.pt" and load_checkpoint(path, digest)
        assert sha256_file(path) == digest


def test_checkpoint_bytes_are_checked_where_they_land(tmp_path, saved):
    """Checkpoints sent between processes are written and loaded only when their bytes match their hash."""
    _, _, policy = saved
    cfg = GRPOConfig(hidden=16)
    data, digest = payload_bytes(make_payload(policy, cfg.game, {}, cfg.to_dict()))
    assert payload_from_bytes(data, digest)["game"] == cfg.game
    damaged = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(CheckpointError, match="arrived damaged"):
        save_generation_checkpoint(tmp_path / "landed" / "g1.pt", damaged, digest)
    assert not (tmp_path / "landed").exists()  # nothing written
    with pytest.raises(CheckpointError, match="does not match its recorded hash"):
        payload_from_bytes(damaged, digest)


def test_policy_args_that_build_nothing_are_a_checkpoint_error(tmp_path, saved):
    """A well-formed file whose stored constructor arguments make no policy (edited, or from a future layout)."""
    _, _, policy = saved
    cfg = GRPOConfig(hidden=16)
    payload = make_payload(policy, cfg.game, {}, cfg.to_dict())
    args = payload["policy_args"]
    for bad in ({**args, "attention_heads": 4}, {**args, "targets": {"agent": [0]}}, {**args, "hidden": 32},
                {**args, "targets": {"agent": {"velocity": 0, "first": 4, "count": 3}}}):
        path = tmp_path / "odd.pt"
        save_checkpoint(path, {**payload, "policy_args": bad})
        with pytest.raises(CheckpointError, match="do not fit") as caught:
            load_team(path)
        assert "\n" not in str(caught.value)  # one line, however many weights mismatch


@pytest.mark.parametrize("change, needle", [
    ({"policy_args": {"layers": 10**9}}, "layers = 1000000000 is not a whole number in [1, 16]"),
    ({"policy_args": {"hidden": 2**40}}, "hidden = 1099511627776 is not a whole number in [1, 4096]"),
    ({"policy_args": {"obs_dims": {"agent": 10**12}}}, "obs_dims.agent"),
    ({"policy_args": {"agents": ["a"] * 5000}}, "agents is not a list of 1 to 1000 names"),
    ({"policy_args": {"targets": {"agent": {"velocity": 0, "first": 4, "count": 10**9, "teammates": 10,
                                            "teammate_count": 2, "moves": 0}}}}, "targets.agent"),
    ({"format_version": "2"}, "format_version '2', not a whole number"),
    ({"game": 3}, "does not name its game"),
])
def test_tampered_payloads_with_a_valid_hash_are_refused_before_anything_is_built(tmp_path, saved, change, needle):
    """Before: layers = 10**9 (hash updated) hung building a billion layers; format_version "2" was a TypeError."""
    _, _, policy = saved
    cfg = GRPOConfig(hidden=16)
    payload = make_payload(policy, cfg.game, {}, cfg.to_dict())
    args = {**payload["policy_args"], **change.pop("policy_args", {})}
    path = tmp_path / "odd.pt"
    save_checkpoint(path, {**payload, **change, "policy_args": args})
    with pytest.raises(CheckpointError) as caught:
        load_team(path)
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_a_checkpoint_plays_only_the_game_it_was_trained_on(saved):
    path, digest, _ = saved
    payload = load_checkpoint(path, digest)
    assert policy_from_payload(payload, "simple_spread", {"max_cycles": 25}, "g0").agents  # the default, spelled out
    for game, kwargs in (("simple_spread", {"N": 4}), ("simple_reference", {})):
        with pytest.raises(CheckpointError, match=f"g0 was trained on simple_spread {{}}, not on this league's {game}"):
            policy_from_payload(payload, game, kwargs, "g0")


def test_checkpoint_names_its_network_layout(saved):
    """What `league show` and scripts read of a checkpoint's arguments: each role's layout by name."""
    payload = load_checkpoint(saved[0], saved[1])
    assert payload["format_version"] == FORMAT_VERSION == 2
    assert payload["policy_args"]["targets"] == {"agent": {"velocity": 0, "first": 4, "count": 3, "teammates": 10,
                                                           "teammate_count": 2, "moves": 0}}
    assert "entities" not in payload["policy_args"]


@pytest.mark.parametrize("game, old", [
    ("simple_spread", {"targets": {"agent": [0, 4, 3, 10, 2]}}),  # ChooseAndSteer
    ("simple_reference", {"targets": {"agent": [0, 2, 3, 0, 0, 5]}}),  # MoveAndSay: a sixth number, moves
    ("knights_archers_zombies", {"targets": {}, "entities": {"archer": [0, 17, 10, 5, 0.5625, 1.0],
                                                             "knight": [0, 17, 10, 5, 0.5625, 1.0]}}),  # ChooseAndAct
])
def test_format_1_checkpoints_with_positional_args_load_and_play_the_same(tmp_path, game, old):
    """A checkpoint as the old code wrote it (format 1, layouts as positional lists, the same weights) loads
    to the same network and outputs; saved again, it names its layout and still gives the same outputs."""
    cfg = GRPOConfig(game=game, hidden=16, steer_hidden=8)
    policy = new_policy(cfg)
    payload = make_payload(policy, cfg.game, cfg.game_kwargs, cfg.to_dict())
    payload = {**payload, "format_version": 1, "policy_args": {**payload["policy_args"], **old}}
    save_checkpoint(tmp_path / "old.pt", payload)
    team = load_team(tmp_path / "old.pt")
    assert team.args == policy.args  # read by name
    assert [type(n) for n in team.nets.values()] == [type(n) for n in policy.nets.values()]
    x = torch.randn(3, len(policy.agents), max(policy.obs_dims.values()), generator=torch.Generator().manual_seed(1))
    assert torch.equal(team(x), policy(x))
    save_checkpoint(tmp_path / "new.pt", make_payload(team, team.game, team.game_kwargs, cfg.to_dict()))
    assert load_checkpoint(tmp_path / "new.pt")["policy_args"] == policy.args
    assert torch.equal(load_team(tmp_path / "new.pt")(x), policy(x))


def nan_generation(policy, cfg, metrics=None):
    """A trained generation as a diverged run makes it: one weight all nan."""
    from league.workers import TrainedGeneration

    with torch.no_grad():
        next(iter(policy.parameters())).fill_(float("nan"))
    data, digest = payload_bytes(make_payload(policy, cfg.game, cfg.game_kwargs, cfg.to_dict(), metrics={}))
    return TrainedGeneration(data, digest, [metrics or {"kl": 0.0, "mean_return": -20.0}], 200, 1.0)


def test_non_finite_weights_or_metrics_are_refused(saved):
    from league.checkpoints import NonFiniteError, check_finite_generation

    _, _, policy = saved
    cfg = GRPOConfig(hidden=16)
    good, _ = payload_bytes(make_payload(policy, cfg.game, {}, cfg.to_dict()))
    not_measured = {"kl": 0.1, "mean_return": float("nan"), "score": None}  # nan: nothing to measure yet
    check_finite_generation(good, not_measured, "lg/alpha/g1")
    for metrics, needle in (({"kl": float("nan")}, "final metric kl is nan"),
                            ({"mean_return": float("inf")}, "final metric mean_return is inf")):
        with pytest.raises(NonFiniteError, match=needle) as caught:
            check_finite_generation(good, metrics, "lg/alpha/g1")
        assert "\n" not in str(caught.value) and "refusing to record lg/alpha/g1" in str(caught.value)
    with pytest.raises(NonFiniteError, match=r"refusing to record lg/alpha/g1: .* of its weight .* are nan or inf"):
        check_finite_generation(nan_generation(policy, cfg).checkpoint, {}, "lg/alpha/g1")


def test_league_never_records_a_non_finite_generation(tmp_path, monkeypatch):
    """Issue 17 class 4: a generation whose weights went nan is refused before its checkpoint is written or
    its row recorded; the league keeps g0, and nothing trains from the poisoned weights."""
    import league.workers
    from league.checkpoints import NonFiniteError
    from league.config import LeagueConfig
    from league.manager import LeagueManager
    from league.store import Store

    cfg = GRPOConfig(hidden=8, groups=4, group_size=2)
    config = LeagueConfig(name="lg", teams=1, generations=2, steps_per_generation=200, match_seeds=1, opponents=[],
                          grpo=cfg)
    monkeypatch.setattr(league.workers, "train_generation",
                        lambda job, *a, **k: nan_generation(new_policy(config.team_config(job.team)), cfg))
    store = Store.open(tmp_path / "league.db", create=True)
    manager = LeagueManager(store, config, tmp_path / "ck")
    with pytest.raises(NonFiniteError, match="refusing to record lg/alpha/g1"):
        manager.run()
    assert [g["name"] for g in store.generations(manager.league["id"])] == ["lg/alpha/g0"]
    assert [p.name.split("-")[0] for p in (tmp_path / "ck" / "lg" / "alpha").iterdir()] == ["g0"]


def test_weights_of_another_type_are_refused(saved):
    """A file whose weights were cast (int64, complex) would load with values cut or a warning; refused instead."""
    path, digest, _ = saved
    payload = load_checkpoint(path, digest)
    for dtype in (torch.int64, torch.float64, torch.complex64):
        weights = {k: v.to(dtype) for k, v in payload["state_dict"].items()}
        with pytest.raises(CheckpointError, match="of another shape or type"):
            policy_from_payload({**payload, "state_dict": weights}, name="g0")
