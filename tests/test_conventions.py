"""The partners' words, read off their play: the scripted code, permuted codes (so nothing is hard-coded),
teams without a code, games without words, the lines a person reads and the viewer's panel."""

import numpy as np
import pygame
import pytest

import games
from league.conventions import describe, word_meanings
from league.evaluate import random_policy
from league.policy import TeamPolicy
from viewer.app import BACKGROUND, panel_size
from viewer.play import HUD, UNSURE_COLOUR, draw_words, play_episode, play_window_size

WORD_GAMES = [name for name in games.names() if games.get(name).words is not None]

SL_PERM = np.array([2, 0, 1])  # the speaker sends C for red, A for green, B for blue
REF_PERM = np.array([7, 2, 9, 0, 1, 3, 4, 5, 6, 8])  # red -> H, green -> C, blue -> J


def permuted_speaker_listener(perm):
    """The scripted team speaking another code: the speaker sends perm[goal], and the listener, hearing w,
    goes to landmark inv_perm[w] (its heard one-hot is shuffled before the scripted listener reads it)."""
    scripted = games.get("simple_speaker_listener").scripted

    def policy(obs, info):
        obs = obs.copy()
        obs[:, 1, 8:11] = obs[:, 1, 8:11][:, perm]  # heard e_w becomes e_{inv_perm[w]}
        actions = scripted(obs, info)
        actions[:, 0] = perm[actions[:, 0]]
        return actions

    return policy


def permuted_reference(perm):
    """simple_reference's scripted team with words perm[goal]; action = move + 5 * word."""
    scripted = games.get("simple_reference").scripted

    def policy(obs, info):
        obs = obs.copy()
        obs[..., 11:21] = obs[..., 11:21][..., perm]
        actions = scripted(obs, info)
        return actions % 5 + 5 * perm[actions // 5]

    return policy


def codes(meanings):
    """says / goes as plain {seat: {key: value}} and the lowest consistency anywhere."""
    says = {s: {k: m.value for k, m in t.items()} for s, t in meanings.says.items()}
    goes = {s: {k: m.value for k, m in t.items()} for s, t in meanings.goes.items()}
    least = min(m.consistency for t in [*meanings.says.values(), *meanings.goes.values()] for m in t.values())
    return says, goes, least


def test_scripted_speaker_listener_reads_the_identity():
    meanings = word_meanings(games.get("simple_speaker_listener").scripted, "simple_speaker_listener")
    says, goes, least = codes(meanings)
    assert says == {"speaker_0": {0: 0, 1: 1, 2: 2}}
    assert goes == {"listener_0": {0: 0, 1: 1, 2: 2}}
    assert least >= 0.95
    assert meanings.landmarks == ("red", "green", "blue")
    assert meanings.colours == ((130, 30, 30), (30, 130, 30), (30, 30, 130))  # mpe2 draws colour * 200
    assert meanings.hears == {"listener_0": "speaker_0"}


def test_a_permuted_code_is_read_off_the_play():
    meanings = word_meanings(permuted_speaker_listener(SL_PERM), "simple_speaker_listener")
    says, goes, least = codes(meanings)
    assert says == {"speaker_0": {g: int(SL_PERM[g]) for g in range(3)}}
    assert goes == {"listener_0": {int(SL_PERM[g]): g for g in range(3)}}
    assert least >= 0.95


def test_simple_reference_scripted_and_permuted():
    says, goes, least = codes(word_meanings(games.get("simple_reference").scripted, "simple_reference"))
    assert says == {"agent_0": {0: 0, 1: 1, 2: 2}, "agent_1": {0: 0, 1: 1, 2: 2}}
    assert all(code[w] == w for code in goes.values() for w in range(3)) and least >= 0.95
    meanings = word_meanings(permuted_reference(REF_PERM), "simple_reference", seats=["agent_1"])
    says, goes, least = codes(meanings)
    assert says == {"agent_1": {g: int(REF_PERM[g]) for g in range(3)}}  # only the asked seat
    assert set(goes) == {"agent_1"} and set(goes["agent_1"]) == set(range(10))  # every word is probed
    assert all(goes["agent_1"][int(REF_PERM[g])] == g for g in range(3))
    assert meanings.hears == {"agent_1": "agent_0"}


def test_a_team_without_a_code_shows_low_consistency():
    for game in WORD_GAMES:
        meanings = word_meanings(random_policy(games.get(game).info(), seed=1), game)
        shares = [m.consistency for t in [*meanings.says.values(), *meanings.goes.values()] for m in t.values()]
        assert max(shares) < 0.7, game


def test_trained_networks_of_every_kind_are_read_the_same_way():
    for game in WORD_GAMES:  # ChooseAndSteer listener, plain MLP speaker; MoveAndSay agents
        team = TeamPolicy.for_game(games.get(game).info(), hidden=16)
        meanings = word_meanings(team, game, episodes=8)
        words = games.get(game).words.words
        assert all(set(t) == set(range(words)) for t in meanings.goes.values())
        assert all(0 <= m.value < words and 0 < m.consistency <= 1 for t in meanings.says.values()
                   for m in t.values())


@pytest.mark.parametrize("game", sorted(set(games.names()) - set(WORD_GAMES)))
def test_games_without_words_have_no_meanings(game):
    assert word_meanings(games.get(game).scripted, game) is None
    assert describe(None) == []


def test_describe_says_what_to_do_from_your_seat():
    code = permuted_speaker_listener(SL_PERM)
    listener = word_meanings(code, "simple_speaker_listener", seats=["listener_0"])
    assert describe(listener, you="speaker_0") == [
        "key r/1 sends A: listener_0 goes to green  100%",
        "key g/2 sends B: listener_0 goes to blue  100%",
        "key b/3 sends C: listener_0 goes to red  100%",
    ]
    speaker = word_meanings(code, "simple_speaker_listener", seats=["speaker_0"])
    assert describe(speaker, you="listener_0") == [  # by word, as you look it up
        "speaker_0 sends A: you go to green  100%",
        "speaker_0 sends B: you go to blue  100%",
        "speaker_0 sends C: you go to red  100%",
    ]
    assert describe(speaker)[0] == "speaker_0 sends C for red  100%"  # no seat: by landmark
    partner = word_meanings(permuted_reference(REF_PERM), "simple_reference", seats=["agent_1"])
    lines = describe(partner, you="agent_0")
    assert lines[:3] == ["agent_1 sends C: you go to green  100%", "agent_1 sends H: you go to red  100%",
                         "agent_1 sends J: you go to blue  100%"]
    assert len(lines) == 4 and lines[3].startswith("you always send A: agent_1 goes to ")  # no word keys


def test_a_word_sent_for_several_goals_is_flagged():
    scripted = games.get("simple_speaker_listener").scripted

    def one_word(obs, info):  # the speaker always sends C
        actions = scripted(obs, info)
        actions[:, 0] = 2
        return actions

    lines = describe(word_meanings(one_word, "simple_speaker_listener", seats=["speaker_0"]), you="listener_0")
    assert lines == ["speaker_0 sends C: you go to red  100%", "speaker_0 sends C: you go to green  100%",
                     "speaker_0 sends C: you go to blue  100%", "  so C could be red / green / blue"]
    assert not any("could be" in line for line in describe(word_meanings(scripted, "simple_speaker_listener")))


def panel_pixels(surface, game):
    """The window right of the game frame, below the HUD, as an array."""
    left = panel_size(game, {})[0] + 20
    return pygame.surfarray.array3d(surface)[left:, HUD:]


def test_the_viewer_shows_the_partners_words(tmp_path):
    pygame.display.init()
    pygame.font.init()
    game = "simple_speaker_listener"
    screen = pygame.display.set_mode((640, 654))  # the size play_cmd opened before the panel existed
    partners = permuted_speaker_listener(SL_PERM)
    episode = play_episode(game, {}, partners, "listener_0", seed=3, fps=1000, screen=screen,
                           held_keys=lambda: {"left"})
    assert episode is not None and (episode.actions[:, 1] == 1).all()
    shown = pygame.display.get_surface()
    assert shown.get_width() > 640 and shown.get_height() == 654  # grown to fit the panel
    # the panel is exactly the described lines, drawn in the landmark colours
    meanings = word_meanings(partners, game, {}, ["speaker_0"])
    expected = pygame.Surface(shown.get_size())
    expected.fill(BACKGROUND)
    draw_words(expected, describe(meanings, you="listener_0"), dict(zip(meanings.landmarks, meanings.colours)),
               (panel_size(game, {})[0] + 30, HUD), pygame.font.Font(None, 24))
    drawn = panel_pixels(shown, game)
    assert (drawn == panel_pixels(expected, game)).all()
    for colour in meanings.colours:  # each landmark's disc
        assert (drawn == colour).all(axis=-1).any()
    pygame.image.save(shown, str(tmp_path / "words.png"))
    pygame.display.quit()


def test_games_without_words_keep_the_window_as_it_was():
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((640, 654))
    play_episode("simple_spread", {}, games.get("simple_spread").scripted, "agent_0", seed=3, fps=1000, screen=screen,
                 held_keys=lambda: set())
    shown = pygame.display.get_surface()
    assert shown.get_size() == (640, 654)
    assert (panel_pixels(shown, "simple_spread") == BACKGROUND).all()
    pygame.display.quit()
    width, _ = play_window_size("simple_spread", {})
    assert play_window_size("simple_speaker_listener", {})[0] >= width + 300


def test_unsure_shares_are_drawn_in_amber():
    pygame.font.init()
    font = pygame.font.Font(None, 24)
    colours = {"red": (130, 30, 30)}
    for line, amber in [("key 2 sends B: listener_0 goes to red  64%", True),
                        ("key 2 sends B: listener_0 goes to red  100%", False)]:
        surface = pygame.Surface((600, 120))
        width = draw_words(surface, [line], colours, (0, 0), font)
        assert 200 < width < 600
        pixels = pygame.surfarray.array3d(surface)
        assert (pixels == UNSURE_COLOUR).all(axis=-1).any() == amber


@pytest.mark.parametrize("game, permuted", [("simple_speaker_listener", permuted_speaker_listener(SL_PERM)),
                                            ("simple_reference", permuted_reference(REF_PERM))])
def test_the_natural_code_is_named_as_such_and_a_private_one_is_not(game, permuted):
    from league.conventions import is_natural

    natural = word_meanings(games.get(game).scripted, game)
    assert is_natural(natural)
    assert describe(natural)[:2] == ["natural code: each word names its landmark", "A = red  B = green  C = blue"]
    private = word_meanings(permuted, game)
    assert not is_natural(private)
    assert not any(line.startswith("natural code") for line in describe(private))
    assert not is_natural(word_meanings(random_policy(games.get(game).info(), 0), game))
