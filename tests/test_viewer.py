"""The viewer, headless: posted keys drive playback; human play stores a human match; render and errors."""

import os
import subprocess
import sys

import numpy as np
import pygame
import pytest
from click.testing import CliRunner
from conftest import one_error_line

from league.cli import cli
from league.matches import play_match
from league.players import player_policy
from league.reports import leaderboard
from viewer.app import ReplayViewer, load_match
from viewer.play import human_action, human_match, play_episode


@pytest.fixture
def league(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, match_seeds=3)
    match = play_match(store, manager.league, "alpha/g0", "scripted", seeds=3)
    yield store, manager.league, match, tmp_path
    store.close()


@pytest.fixture
def viewer(league, tmp_path):
    store, _, match, _ = league
    pygame.display.init()
    pygame.font.init()
    view = load_match(store, store.league("default"), match["id"])
    pygame.display.set_mode(ReplayViewer.window_size(view))
    v = ReplayViewer(view, screenshot_dir=str(tmp_path / "shots"))
    yield v
    pygame.display.quit()


def press(viewer, key, frames=1):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
    viewer.run(max_frames=frames)


def test_pause_step_speed_and_next_episode(viewer):
    viewer.update(0.35)  # 0.35 s at 10 fps x1 = frame 3
    assert viewer.frame == 3
    press(viewer, pygame.K_SPACE)
    assert viewer.paused
    frame = viewer.frame
    for _ in range(5):
        viewer.update(0.2)
    assert viewer.frame == frame  # pause stops the frame counter
    press(viewer, pygame.K_RIGHT)
    assert viewer.frame == frame + 1
    press(viewer, pygame.K_LEFT)
    press(viewer, pygame.K_LEFT)
    assert viewer.frame == frame - 1
    press(viewer, pygame.K_SPACE)
    press(viewer, pygame.K_HOME)
    assert viewer.frame == 0
    start = viewer.position
    viewer.update(0.2)
    slow = viewer.position - start
    press(viewer, pygame.K_PLUS)
    press(viewer, pygame.K_PLUS)
    assert viewer.speed == 4.0
    start = viewer.position
    viewer.update(0.2)
    assert viewer.position - start == pytest.approx(4 * slow)  # the rate follows the speed
    press(viewer, pygame.K_n)
    assert viewer.episode == 1 and viewer.frame <= 1
    press(viewer, pygame.K_p)
    assert viewer.episode == 0


def test_timeline_click_scrubs_and_s_saves_a_screenshot(viewer, tmp_path):
    bar = viewer._bar_rect()
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(bar.centerx, bar.centery)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(bar.centerx, bar.centery)))
    viewer.paused = True
    viewer.run(max_frames=1)
    assert abs(viewer.frame - (viewer.length - 1) / 2) <= 1
    press(viewer, pygame.K_s)
    shots = list((tmp_path / "shots").glob("*.png"))
    assert len(shots) == 1 and pygame.image.load(str(shots[0])).get_size() == viewer.screen.get_size()


WINNER_COLOUR = (255, 230, 120)  # the viewer draws the result in this colour, right of the status row


def drawn_texts(viewer, monkeypatch):
    """Records every (text, colour) the viewer renders with its HUD font."""
    drawn = []

    class Font:
        def __init__(self, font):
            self.font = font

        def render(self, text, antialias, colour, *args):
            drawn.append((text, tuple(colour)))
            return self.font.render(text, antialias, colour, *args)

        def __getattr__(self, name):
            return getattr(self.font, name)

    monkeypatch.setattr(viewer, "font", Font(viewer.font))
    return drawn


def test_escape_exits_with_status_zero_and_winner_shows(league, viewer, monkeypatch):
    """At the last frame of each episode the viewer shows the winner of that seed as the match stored it (the
    higher team return; `draw` within the tolerance), in the status row; not before the end."""
    store, _, match, _ = league
    names = (match["name_a"], match["name_b"])
    stored = {r["seed"]: r["outcome"] for r in store.match(match["id"])["results"]}
    assert len(stored) == len(viewer.view.pairs) == 3
    drawn = drawn_texts(viewer, monkeypatch)
    shown = []
    for k in range(len(viewer.view.pairs)):
        viewer.select_episode(k)
        viewer.paused = True
        viewer.seek(viewer.length - 2)
        drawn.clear()
        viewer.run(max_frames=1)
        assert [t for t, c in drawn if c == WINNER_COLOUR] == []  # one frame before the end: no result yet
        viewer.seek(viewer.length - 1)
        drawn.clear()
        viewer.run(max_frames=1)
        winner = [t for t, c in drawn if c == WINNER_COLOUR]
        left, right = viewer.view.pairs[k]
        assert left.seed == right.seed
        result = stored[left.seed]
        expected = "draw" if result == 0.5 else f"winner: {names[0 if result == 1.0 else 1]}"
        assert winner == [expected], (k, winner, expected, left.team_return, right.team_return)
        shown.append(winner[0])
        # and it is on the screen: the winner's colour appears right of the status row
        bar = viewer._bar_rect()
        row = pygame.surfarray.pixels3d(viewer.screen)[bar.centerx:bar.right, bar.top - 20:bar.top]
        assert (row == WINNER_COLOUR).all(axis=-1).any()
        del row
    assert shown == ["winner: scripted"] * 3  # scripted beats the untrained g0 on every seed
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode=""))
    assert viewer.run() == 0 and not viewer.running


def test_mismatched_replay_is_flagged(league):
    store, _, match, _ = league
    store.db.execute("UPDATE episodes SET checksums = ? WHERE id = (SELECT MIN(id) FROM episodes WHERE match_id = ?)",
                     [np.zeros(25, dtype=np.uint32).tobytes(), match["id"]])
    pygame.display.init()
    pygame.font.init()
    view = load_match(store, store.league("default"), match["id"])
    pygame.display.set_mode(ReplayViewer.window_size(view))
    v = ReplayViewer(view)
    v.seek(5)
    v.update(0.0)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert v.run() == 3 and (0, 0) in v.mismatches
    pygame.display.quit()


def test_human_play_with_held_keys_stores_a_human_match(league):
    store, lg, _, _ = league
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((600, 640))
    partner, policy = player_policy(store, lg, "alpha/g0")
    episode = play_episode("simple_spread", {}, policy, "agent_1", seed=77, fps=1000, screen=screen,
                           held_keys=lambda: {"left", "up"})  # left is first in the map: it wins
    assert episode is not None and episode.seats == [1, 0, 1]
    assert (episode.actions[:, 1] == 1).all() and len(episode.actions) == 25
    human = store.ensure_player(lg["id"], "human:tester", "human")
    result = human_match("simple_spread", {}, episode, policy)
    match = store.add_match(lg["id"], "human", human["id"], partner["id"], result)
    assert match["kind"] == "human" and match["results"][0]["seed"] == 77
    seats = [e.seats for e in store.episodes(match["id"])]
    assert seats == [[1, 0, 1], [1, 1, 1]]
    assert "human:tester" in {r["player"] for r in leaderboard(store, lg)}
    pygame.display.quit()


def test_human_action_uses_map_priority_and_idle():
    import games

    keymap = games.get("knights_archers_zombies").key_maps["archer"]
    assert human_action(keymap, set()) == keymap.idle == 5
    assert human_action(keymap, {"up", "space"}) == 4  # space (attack) is listed first


def test_render_gif_and_png(league):
    store, _, match, tmp_path = league
    runner = CliRunner()
    db = str(tmp_path / "league.db")
    result = runner.invoke(cli, ["render", str(match["id"]), "--out", str(tmp_path / "m.gif"), "--db", db])
    assert result.exit_code == 0, result.output
    from PIL import Image

    with Image.open(tmp_path / "m.gif") as gif:
        assert gif.n_frames == 3 * 26  # three episodes of 25 steps + the start frame
    result = runner.invoke(cli, ["render", str(match["id"]), "--out", str(tmp_path / "m.png"), "--db", db])
    assert result.exit_code == 0 and (tmp_path / "m.png").stat().st_size > 1000
    store.ensure_league("other", "simple_spread", {}, {})  # match ids are global: --league must hold the match
    result = runner.invoke(cli, ["render", str(match["id"]), "--out", str(tmp_path / "o.png"), "--league", "other",
                                 "--db", db])
    one_error_line(result, f"match {match['id']} is not in league 'other'")
    assert not (tmp_path / "o.png").exists()


def test_viewer_errors_are_one_line(league):
    store, lg, match, tmp_path = league
    db = str(tmp_path / "league.db")
    env = {**os.environ, "SDL_VIDEODRIVER": "no-such-driver"}
    cmd = [sys.executable, "-m", "league"]
    r = subprocess.run(cmd + ["watch", str(match["id"]), "--db", db], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "cannot open a display" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(cmd + ["watch", "999", "--db", db], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "no match with id 999" in r.stderr
    os.remove(store.generation("alpha/g0", "default")["checkpoint"])
    r = subprocess.run(cmd + ["watch", "alpha/g0", "random", "--db", db], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "not found" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(cmd + ["play", "--with", "alpha/g0", "--db", db], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "not found" in r.stderr
    r = subprocess.run(cmd + ["render", "999", "--out", str(tmp_path / "x.gif"), "--db", db], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "no match" in r.stderr


SHORT = {"knights_archers_zombies": {"max_cycles": 30}, "pursuit": {"max_cycles": 15}}


@pytest.mark.parametrize("game", [g for g in __import__("games").names()
                                  if not __import__("games").get(g).info().turn_based])  # Hanabi: tests/test_play_table.py
def test_every_game_plays_with_a_human_and_renders(game, tmp_path, tiny_league):
    import games

    store, manager = tiny_league(tmp_path, game, SHORT.get(game, {}), opponents=["random"], match_seeds=1)
    lg = manager.league
    info = games.get(game).info(**lg["game_kwargs"])
    seat = info.agents[-1]
    keymap = games.get(game).key_maps[info.role_of(seat)]
    first_key = next(iter(keymap.keys))
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((600, 700))
    partner, policy = player_policy(store, lg, "alpha/g0")
    episode = play_episode(game, lg["game_kwargs"], policy, seat, seed=5, fps=1000, screen=screen,
                           held_keys=lambda: {first_key})
    assert episode is not None and episode.seats[info.agents.index(seat)] == 0
    acted = episode.actions[:, info.agents.index(seat)]
    assert set(acted[acted != 255]) == {keymap.keys[first_key]}
    human = store.ensure_player(lg["id"], "human:t", "human")
    result = human_match(game, lg["game_kwargs"], episode, policy)
    match = store.add_match(lg["id"], "human", human["id"], partner["id"], result)
    pygame.display.quit()
    from viewer.render import render_match

    path, frames = render_match(load_match(store, lg, match["id"]), tmp_path / "last.png")
    assert frames == 1 and path.stat().st_size > 1000
    store.close()
