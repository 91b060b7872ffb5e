"""Hanabi in the viewer, headless: the table shows a player only what the player may see, moves are said in
words, and a person's game, driven by posted keys and clicks, is stored as a rated human match that re-simulates."""

import numpy as np
import pygame
import pytest

import games
from games.hanabi_core import layout_of
from games.vector import batchify, unbatchify
from league.matches import play_match
from league.players import player_policy
from league.reports import leaderboard
from viewer.app import load_match
from viewer.frames import EpisodeFrames
from viewer.hanabi_table import SIZE, TableGame, describe_move, draw_table
from viewer.play import human_match
from viewer.play_table import Seat, play_table_episode

SPEC = games.get("hanabi")
INFO = SPEC.info()
L = layout_of(INFO.options)
AGENTS = list(INFO.agents)


@pytest.fixture(autouse=True)
def display():
    pygame.display.init()
    pygame.font.init()
    yield
    pygame.display.quit()


def key(char):
    return pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(char), mod=0, unicode=char)


def test_a_player_sees_the_partners_cards_and_not_its_own():
    """Drawn twice, with player 0's own cards swapped for others: its view does not change; a spectator's does."""
    game = TableGame({}, 3, AGENTS)
    for _ in range(6):
        game.step(SPEC.scripted(game.obs[None], INFO)[0])
    other = TableGame({}, 3, AGENTS)
    for _ in range(6):
        other.step(SPEC.scripted(other.obs[None], INFO)[0])
    other.core.hand[0, 0] = np.roll(other.core.hand[0, 0], 1)  # player 0 holds the same cards, in another order
    other.obs = other.core.observe_all()[0]
    assert (other.obs[0] != game.obs[0]).sum() == 0  # player 0's observation cannot tell
    pictures = []
    for g in (game, other):
        for seat in (0, None):
            surface = pygame.Surface(SIZE)
            g.draw(surface, seat)
            pictures.append(pygame.surfarray.array3d(surface))
    assert (pictures[0] == pictures[2]).all()  # player 0's view: the same
    assert not (pictures[1] == pictures[3]).all()  # a spectator's: the hand shows


def test_moves_are_said_in_words():
    env = SPEC.make_env()
    obs, _ = env.reset(seed=3)
    said = []
    while env.agents and len(said) < 40:
        o = batchify(obs, AGENTS, INFO.max_obs_dim)
        row = SPEC.scripted(o[None], INFO)[0]
        mover = AGENTS.index(env.acting[0])
        said.append(describe_move(o, mover, int(row[mover]), L, AGENTS))
        obs, *_ = env.step(unbatchify(row, AGENTS, env.agents, INFO.action_nvec))
    assert any(s.startswith("player_0 played card") and s.endswith("it fits") for s in said)
    assert any(s.startswith("player_1 discarded card") for s in said)
    assert any(s.startswith("player_1 told player_0: ") for s in said)
    # a hint names exactly the cards of that colour or rank
    o = batchify(env.reset(seed=3)[0], AGENTS, INFO.max_obs_dim)
    hand = TableGame({}, 3, AGENTS).hands()[1]
    rank = int(hand[0] % L.ranks)
    slots = ", ".join(str(s + 1) for s in np.flatnonzero(hand % L.ranks == rank))
    move = 2 * L.hand_size + L.colors + rank
    assert describe_move(o, 0, move, L, AGENTS).endswith(f"{rank + 1}s (card{'s' if ',' in slots else ''} {slots})")


def test_the_seat_refuses_what_the_rules_do_not_allow():
    game = TableGame({}, 3, AGENTS)
    seat = Seat(game, 0)
    surface = pygame.Surface(SIZE)
    seat.cards = game.draw(surface, 0).cards
    legal = np.asarray(game.obs[0, L.size:] > 0.5)
    assert seat.handle(key("d"), legal, (0, 0)) is None and seat.status == "pick a card first"
    assert seat.handle(key("2"), legal, (0, 0)) is None and seat.selected == (0, 1)
    assert seat.handle(key("d"), legal, (0, 0)) is None  # every hint token in hand: no discard
    assert "cannot discard" in seat.status
    assert seat.handle(key("c"), legal, (0, 0)) is None and "partner's card" in seat.status
    rect = seat.cards[(1, 3)]
    click = pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(rect.centerx + 10, rect.centery + 84))
    assert seat.handle(click, legal, (10, 84)) is None and seat.selected == (1, 3)
    kind = int(game.hands()[1, 3])
    assert seat.handle(key("r"), legal, (0, 0)) == 2 * L.hand_size + L.colors + kind % L.ranks
    seat.selected = (0, 4)
    assert seat.handle(key("p"), legal, (0, 0)) == L.hand_size + 4


def test_a_person_plays_a_whole_game_stored_as_a_rated_human_match(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, "hanabi", opponents=["random"], match_seeds=1)
    lg = manager.league
    partner, policy = player_policy(store, lg, "alpha/g0")
    screen = pygame.display.set_mode((SIZE[0] + 20, SIZE[1] + 100))

    def person():  # plays its first card every turn (the game ends by itself), then closes the final table
        return [key("1"), key("p")] + [pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, mod=0, unicode="\r")]

    episode = play_table_episode("hanabi", {}, policy, "player_1", 11, screen, events=person, partner_seconds=0.0)
    assert episode is not None and episode.seats == [1, 0]
    mine = episode.actions[:, 1]
    assert set(mine[1::2]) == {L.hand_size} and (mine[0::2] == 255).all()  # player 1 moves on odd turns only
    assert (episode.actions[0::2, 0] != 255).all()
    frames = EpisodeFrames("hanabi", {}, 11, episode.actions, episode.checksums, SIZE)
    assert frames.verify() is None  # the stored game re-simulates, checksum for checksum
    assert frames.table.score == episode.team_return
    human = store.ensure_player(lg["id"], "human:tester", "human")
    result = human_match("hanabi", {}, episode, policy)
    match = store.add_match(lg["id"], "human", human["id"], partner["id"], result)
    assert [e.seats for e in store.episodes(match["id"])] == [[1, 0], [1, 1]]
    assert "human:tester" in {r["player"] for r in leaderboard(store, lg)}
    view = load_match(store, lg, match["id"])
    assert view.pairs[0][0].seed == 11


def test_quitting_stores_nothing(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, "hanabi", opponents=["random"], match_seeds=1)
    _, policy = player_policy(store, manager.league, "alpha/g0")
    screen = pygame.display.set_mode((SIZE[0] + 20, SIZE[1] + 100))
    quit_now = lambda: [pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="")]  # noqa: E731
    assert play_table_episode("hanabi", {}, policy, "player_0", 11, screen, events=quit_now) is None


def test_watch_draws_both_tables_of_a_match(tmp_path, tiny_league):
    store, manager = tiny_league(tmp_path, "hanabi", opponents=["random"], match_seeds=1)
    match = play_match(store, manager.league, "alpha/g0", "scripted", seeds=1)
    from viewer.render import render_match

    path, frames = render_match(load_match(store, manager.league, match["id"]), tmp_path / "last.png")
    assert frames == 1
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
    assert width >= 2 * 560 and height > 560  # two tables side by side
