"""A cooperative PettingZoo game the package has never seen, named by entry point: trained in a league, rated,
re-simulated, played by a person and scored with partners, exactly as docs/own-game.md's "Your own game" says.
Bad games are one error line each, with nothing stored."""

import json
import re
import sqlite3
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import games
from league.cli import cli
from league.replays import Episode, resimulate
from league.store import Store

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs/own-game.md").read_text()
SECTION = PAGE[PAGE.index("## Your own game"):PAGE.index("## Using a trained team in your own code")]


def page_game() -> str:
    """The page's cover.py, as written there."""
    return re.search(r"```python\n(.*?)```", SECTION, re.S).group(1)


def page_commands() -> list[list[str]]:
    """The `league ...` commands of the page's bash block, without their comments."""
    block = re.search(r"```bash\n(.*?)```", SECTION, re.S).group(1)
    return [line.split("#")[0].split()[1:] for line in block.splitlines() if line.startswith("league ")]


@pytest.fixture
def game_folder(tmp_path, monkeypatch):
    """A folder holding the page's game, as the current directory (where `games` looks for its module)."""
    (tmp_path / "cover.py").write_text(page_game())
    (tmp_path / "guide.py").write_text((ROOT / "docs/examples/guide.py").read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setattr(sys, "path", list(sys.path))  # the folder `games` adds is gone after the test
    yield tmp_path
    for module in ("cover", "guide", "bad_games"):  # the next test's folder has its own
        sys.modules.pop(module, None)
    games.get.cache_clear()


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_the_page_game_is_the_example_file():
    assert page_game() == (ROOT / "docs/examples/cover.py").read_text()


def test_a_game_named_by_entry_point_trains_plays_and_is_rated_as_the_page_says(game_folder, monkeypatch):
    commands = page_commands()
    assert [c[0] for c in commands] == ["games", "train", "ratings", "watch", "play", "partners"]
    games_cmd, train, ratings, _, play, partners = commands
    listed = json.loads(run(*games_cmd, "--json").output)
    assert listed[0]["roles"] == {"walker": {"agents": ["walker_0", "walker_1"], "obs_shape": [8], "actions": 5}}
    assert listed[0]["horizon"] == 20 and listed[0]["scripted"]

    run(*train)  # 2 teams x 2 generations, their scheduled matches
    store = Store.open("league.db", create=False)
    league = store.league("default")
    assert league["game"] == "cover:SPEC"
    names = [g["name"] for g in store.generations(league["id"])]
    assert sorted(names) == [f"default/{t}/g{k}" for t in ("alpha", "beta") for k in (0, 1, 2)]
    matches = store.matches(league["id"])
    assert {m["name_b"] for m in matches} >= {"random", "scripted"}
    board = {r["player"]: r for r in json.loads(run(*ratings, "--json").output)}
    assert {"default/alpha/g2", "default/beta/g2", "scripted", "random"} <= set(board)
    assert board["scripted"]["elo"] > board["random"]["elo"]

    # `league watch` re-simulates every stored episode from its actions and checks every checksum
    for match in matches:
        for episode in store.episodes(match["id"]):
            assert episode.game == "cover:SPEC" and resimulate(episode) is None
    from viewer.app import load_match

    view = load_match(store, store.league("default"), matches[0]["id"])
    from viewer.frames import EpisodeFrames

    left = view.pairs[0][0]
    frames = EpisodeFrames(left.game, left.game_kwargs, left.seed, left.actions, left.checksums, (240, 240))
    assert frames.verify() is None and frames.length == 21
    run("render", str(matches[0]["id"]), "--out", "match.png")
    assert Path("match.png").stat().st_size > 500

    idle = run(*play, "--name", "idle", "--fps", "120", ok=False)  # no key held: not the person's episode
    assert idle.exit_code == 1 and "you pressed no key" in idle.output
    monkeypatch.setattr("viewer.play.keyboard_keys", lambda keymap: (lambda: {"up"}))  # holding the up arrow
    played = run(*play, "--name", "tester", "--fps", "120")
    assert "team return with you" in played.output
    human = store.matches(league["id"], kind="human")
    assert len(human) == 1 and human[0]["name_a"] == "human:tester"
    seats = [e.seats for e in store.episodes(human[0]["id"])]
    assert seats == [[0, 1], [1, 1]]

    scored = json.loads(run(*partners, "--json").output)
    styles = [p for p in scored["partners"] if p["kind"] == "style"]
    assert [p["partner"] for p in styles] == ["slow", "slips"]  # no stubborn style declared, no words
    assert all(p["score"] is not None and p["scripted_return"] > p["random_return"] for p in styles)
    store.close()


def test_a_bare_env_without_a_scripted_plan_is_rated_and_scored_without_scores(game_folder):
    Path("selfplay.toml").write_text("[team.beta]\npartner_share = 0\n")  # alpha/g1 stays held out from beta
    run("train", "--game", "cover:Cover", "--teams", "2", "--generations", "1", "--steps-per-generation", "4000",
        "--config", "selfplay.toml", "--db", "bare.db")
    store = Store.open("bare.db", create=False)
    league = store.league("default")
    assert "scripted" not in {m["name_b"] for m in store.matches(league["id"])}
    result = run("partners", "default/beta/g1", "--seeds", "4", "--db", "bare.db")
    assert "no scripted plan" in result.output
    rows = store.partner_scores(store.generation("default/beta/g1")["id"])
    assert [(r["partner"], r["score"], r["scripted_return"]) for r in rows] == [("default/alpha/g1", None, None)]
    assert rows[0]["team_return"] is not None
    result = run("match", "default/alpha/g1", "scripted", "--db", "bare.db", ok=False)
    assert result.exit_code == 1 and "no scripted baseline" in result.output
    store.close()


def test_another_shape_roles_multidiscrete_early_endings_and_no_state(game_folder):
    """guide: two roles with different spaces, a MultiDiscrete walker, episodes that end when it arrives, and
    no state() (replays checksum the observations)."""
    spec = games.get("guide:SPEC")
    info = spec.info()
    assert info.roles == {"guide": ("guide_0",), "walker": ("walker_0",)}
    assert info.n_actions == {"guide": 4, "walker": 6} and info.action_nvec == {"walker": (3, 2)}
    run("train", "--game", "guide:SPEC", "--teams", "1", "--generations", "1", "--steps-per-generation", "3000",
        "--db", "guide.db")
    store = Store.open("guide.db", create=False)
    league = store.league("default")
    lengths = set()
    for match in store.matches(league["id"]):
        for episode in store.episodes(match["id"]):
            lengths.add(len(episode.actions))
            assert resimulate(episode) is None
            tampered = Episode(**{**episode.__dict__, "checksums": episode.checksums ^ np.uint32(1)})
            assert resimulate(tampered) == 0  # an observation checksum that does not match is caught
    assert min(lengths) < info.horizon == max(lengths)  # the scripted walker arrives early; random ones do not
    store.close()


def test_the_same_league_on_two_ray_workers_gives_the_same_generations(game_folder):
    pytest.importorskip("ray")
    Path("threads.toml").write_text("[grpo]\nthreads = 1\n")
    common = ["train", "--game", "cover:SPEC", "--teams", "2", "--generations", "1", "--steps-per-generation",
              "6000", "--config", "threads.toml"]
    run(*common, "--db", "serial.db", "--checkpoints", "serial")
    run(*common, "--db", "ray.db", "--checkpoints", "ray", "--workers", "2")

    def generations(db):
        with sqlite3.connect(db) as c:
            return c.execute("SELECT team_id, number, sha256 FROM generations ORDER BY team_id, number").fetchall()

    assert generations("serial.db") == generations("ray.db") and len(generations("ray.db")) == 4


BAD_GAMES = {
    "no_such_module:make": "cannot be imported: ModuleNotFoundError",
    "bad_games:missing": "has no missing",
    "bad_games:not_an_env": "must return a PettingZoo ParallelEnv or AECEnv, got dict",
    "bad_games:raises_in_reset": "raised RuntimeError in reset or step: broken reset",
    "bad_games:raises_in_step": "raised RuntimeError in reset or step: broken step",
    "bad_games:continuous": "bounds must be finite",
    "bad_games:dict_observations": "observation space is a Dict without 'observation'",
    "bad_games:WRONG_CORE": "its batched core has agents",
    "bad_games:NUMBER": "is a int: name a GameSpec or a callable",
    "not an entry point:": "is not an entry point",
}

BAD_MODULE = '''
import numpy as np
from gymnasium.spaces import Box, Dict, Discrete
from cover import Cover, SPEC
import dataclasses

NUMBER = 3

def not_an_env():
    return {}

class Broken(Cover):
    def reset(self, seed=None, options=None):
        if self.fail == "reset":
            raise RuntimeError("broken reset")
        return super().reset(seed, options)
    def step(self, actions):
        raise RuntimeError("broken step")

def raises_in_reset():
    env = Broken(); env.fail = "reset"; return env

def raises_in_step():
    env = Broken(); env.fail = "step"; return env

class Continuous(Cover):
    def action_space(self, agent):
        return Box(-np.inf, np.inf, (2,))

def continuous():
    return Continuous()

class DictObs(Cover):
    def observation_space(self, agent):
        return Dict({"x": Box(0, 1, (2,))})

def dict_observations():
    return DictObs()

class Core:
    agents = ("someone",)
    obs_dim = 8
    def __init__(self, n):
        self.n = n

WRONG_CORE = dataclasses.replace(SPEC, batch_core=lambda n, **kwargs: Core(n))
'''


@pytest.mark.parametrize("game, message", BAD_GAMES.items())
def test_a_bad_game_is_one_error_line_and_nothing_is_stored(game_folder, game, message):
    (game_folder / "bad_games.py").write_text(textwrap.dedent(BAD_MODULE))
    result = run("train", "--game", game, "--db", "bad.db", "--steps-per-generation", "1000", ok=False)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert message in lines[0]
    assert not Path("bad.db").exists() or not Store.open("bad.db", create=False).leagues()


def test_bench_env_runs_a_game_without_a_core_beside_its_reference_loop(game_folder):
    report = json.loads(run("bench", "env", "--game", "guide:SPEC", "--seconds", "0.2", "--json").output)
    assert report["batch_kind"] == "VectorBatch" and [r["num_envs"] for r in report["batched"]] == [1, 8, 32]
    assert report["reference_steps_per_s"] > 0 and all(r["steps_per_s"] > 0 for r in report["batched"])


def test_a_stored_game_whose_module_is_gone_is_one_line(game_folder):
    run("train", "--game", "guide:SPEC", "--teams", "1", "--generations", "1", "--steps-per-generation", "1000",
        "--db", "gone.db")
    Path("guide.py").rename("moved.py")
    games.get.cache_clear()
    sys.modules.pop("guide", None)
    result = run("match", "default/alpha/g1", "random", "--db", "gone.db", ok=False)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1
    assert lines[0] == "Error: game 'guide:SPEC' cannot be imported: ModuleNotFoundError: No module named 'guide'"


def test_an_own_games_options_are_checked_by_their_kind_and_its_declared_bounds():
    """A bare env (options not listed) takes plain values only; a spec's own `option_limits`, `options_check`
    and defaults of other types hold wherever the options come in."""
    import dataclasses

    from games.spec import GameError

    bare = dataclasses.replace(games.get("simple_spread"), name="bare", options=None)
    for value in (3, 2.5, "text", True, None):
        bare.resolve_kwargs({"k": value})
    for value, needle in (([1], "true or false, a number or text"), (10**6, "an integer from 0 to 100000"),
                          (float("inf"), "a finite number")):
        with pytest.raises(GameError, match=re.escape(needle)):
            bare.resolve_kwargs({"k": value})
    own = dataclasses.replace(games.get("simple_spread"), name="own", options={"size": 6, "shape": (2, 2)},
                              option_limits={"size": (2, 10)},
                              options_check=lambda size, shape: "too small" if size < 2 * shape[0] else None)
    assert own.resolve_kwargs({"size": 8}) == {"size": 8, "shape": (2, 2)}
    for kwargs, needle in (({"size": 11}, "option size must be an integer from 2 to 10, got 11"),
                           ({"shape": [2, 2]}, "option shape must be a tuple"),
                           ({"size": 3}, "options {'size': 3} cannot be played: too small")):
        with pytest.raises(GameError, match=re.escape(needle)):
            own.resolve_kwargs(kwargs)


SOLO = '''
import functools

import numpy as np
from gymnasium.spaces import Box, Discrete
from pettingzoo import ParallelEnv


class Solo(ParallelEnv):
    """One walker heads for a goal cell: a game of one seat."""
    metadata = {"name": "solo_v0", "render_modes": ["rgb_array"], "render_fps": 5}

    def __init__(self, render_mode=None):
        self.possible_agents, self.render_mode = ["walker_0"], render_mode

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent):
        return Box(-1.0, 1.0, (2,), np.float32)

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent):
        return Discrete(3)

    def reset(self, seed=None, options=None):
        self.gap, self.t, self.agents = int(np.random.default_rng(seed).integers(-4, 5)), 0, ["walker_0"]
        return {"walker_0": np.array([self.gap / 5, 0.0], np.float32)}, {"walker_0": {}}

    def step(self, actions):
        self.gap += (0, -1, 1)[actions["walker_0"]]
        self.t += 1
        over = self.t >= 8
        obs = {"walker_0": np.array([self.gap / 5, self.t / 8], np.float32)}
        agents, self.agents = self.agents, [] if over else self.agents
        return obs, {a: -abs(self.gap) / 5 for a in agents}, {a: False for a in agents}, \\
            {a: over for a in agents}, {a: {} for a in agents}

    def render(self):
        return np.zeros((20, 20, 3), np.uint8)
'''


def test_a_game_of_one_seat_trains_alone_whatever_the_partner_settings(game_folder):
    """Before: with partner_share (default 0.5) the partner took the only seat of half the groups and the team
    learned nothing from them, silently; now a one-seat game has no partners, in the pool or in training."""
    (game_folder / "solo.py").write_text(SOLO)
    run("train", "--game", "solo:Solo", "--teams", "2", "--generations", "2", "--steps-per-generation", "4000",
        "--db", "solo.db")
    store = Store.open("solo.db", create=False)
    league = store.league("default")
    g2 = store.generation("beta/g2", "default")  # trained when alpha/g1 was recorded: a partner, had it a seat
    assert store.generation_partners(g2["id"]) == []
    metrics = store.training_metrics(g2["id"])
    assert metrics and not any("partner_return" in m["metrics"] for m in metrics)  # no partnered group
    assert len(store.generations(league["id"])) == 6
    store.close()
    sys.modules.pop("solo", None)
