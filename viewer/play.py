"""Human play: a person takes one seat with the game's key map; a trained generation fills the other seats.

Held keys act every frame (the first held key of the map wins; none held = the map's idle action). The finished
episode is stored as a `human` match in duplicate with the all-agent team on the same seed, so the person
(`human:<name>`) gets a rating like any generation. Closing the window or Esc abandons the episode; nothing
is stored then.

In games with words (simple_speaker_listener, simple_reference) the partners speak a code of their own, so a
panel right of the game shows it, read off their play before the episode starts (`league.conventions`): the
word a partner sends for each goal, and where a partner goes for each word you can send.

Hanabi is turn-based and played at the viewer's own table instead (`viewer.play_table`): a move per turn with the
mouse and keys, stored the same way.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pygame

import games
from games.spec import KeyMap, close_env, padded, role_of
from games.vector import batchify, unbatchify
from league.conventions import describe, word_meanings
from league.matches import MatchResult, next_seeds, outcome, play_episodes
from league.partners import best_partner
from league.players import player_policy
from league.replays import NO_ACTION, Episode, state_checksum, stored_actions
from league.store import Store
from viewer.app import BACKGROUND, DIM, HUD_HEIGHT, HUMAN_COLOUR, TEXT, panel_size
from viewer.frames import panel_positions, to_surface
from viewer.hanabi_table import has_table
from viewer.play_table import play_table_episode, table_window_size

HeldKeys = Callable[[], set[str]]
HUD = HUD_HEIGHT
"""Pixels above the game frame (who you are, your keys, step and return): the replay viewer's HUD height."""
WORDS_WIDTH = 420
"""Pixels right of the game frame for the partners' words, in games with words."""
WORDS_TITLE = ("What your partners' words mean", "(read off how they play)")
UNSURE, UNSURE_COLOUR = 0.8, (255, 190, 80)
"""A meaning that fewer than this share of episodes agree with has its share drawn in amber."""


def keyboard_keys(keymap: KeyMap) -> HeldKeys:
    """The map's keys currently held on the real keyboard."""
    codes = {name: pygame.key.key_code(name) for name in keymap.keys}

    def held() -> set[str]:
        pressed = pygame.key.get_pressed()
        return {name for name, code in codes.items() if pressed[code]}

    return held


def human_action(keymap: KeyMap, held: set[str]) -> int | np.ndarray:
    """The action for the held keys: the first of the map's keys that is held, else the idle action. A map of
    Box actions: the idle numbers plus every held key's, float32 (the batch clips them to the box)."""
    if isinstance(keymap.idle, tuple):
        pushed = [np.asarray(numbers, dtype=np.float32) for key, numbers in keymap.keys.items() if key in held]
        return np.asarray(keymap.idle, dtype=np.float32) + sum(pushed, np.float32(0))
    return next((action for key, action in keymap.keys.items() if key in held), keymap.idle)


def play_window_size(game: str, game_kwargs: dict[str, Any]) -> tuple[int, int]:
    """Window (width, height) for human play: the HUD, the game frame and, in games with words, the panel of
    the partners' words to its right."""
    width, height = panel_size(game, game_kwargs)
    words = WORDS_WIDTH if games.get(game).words is not None else 0
    return max(width + 20 + words, 640), height + HUD + 10


def draw_words(screen: pygame.Surface, lines: list[str], colours: dict[str, tuple[int, int, int]],
               topleft: tuple[int, int], font: pygame.font.Font) -> int:
    """Draws the title and `lines` (from `league.conventions.describe`) at `topleft`: each landmark name with a
    disc of the colour the game draws it in and the name in a bright version of it (the game's colours are too
    dark to read on the background), shares in grey (amber when unsure). Returns the width drawn, in pixels."""
    left, top = topleft
    right = left
    rows = [[(WORDS_TITLE[0], TEXT)], [(WORDS_TITLE[1], DIM)], []]
    for line in lines:
        rows.append([(word, _share_colour(word) if word.endswith("%") else TEXT) for word in line.split(" ")])
    space = font.size(" ")[0]
    for i, row in enumerate(rows):
        x, y = left, top + 26 * i
        for word, colour in row:
            if word in colours:
                pygame.draw.circle(screen, colours[word], (x + 7, y + 8), 7)
                pygame.draw.circle(screen, TEXT, (x + 7, y + 8), 7, 1)
                x += 18
                colour = _bright(colours[word])
            text = font.render(word, True, colour)
            screen.blit(text, (x, y))
            x += text.get_width() + space
        right = max(right, x - space)
    return right - left


def _share_colour(share: str) -> tuple[int, int, int]:
    """Grey for a share of episodes ("100%") a person can rely on, amber below UNSURE."""
    return DIM if float(share.rstrip("%")) >= 100 * UNSURE else UNSURE_COLOUR


def _bright(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """The colour scaled up to full brightness, a quarter of the way to white."""
    top = max(max(colour), 1)
    r, g, b = (int(0.75 * 255 * c / top + 0.25 * 255) for c in colour)
    return r, g, b


def _widen(screen: pygame.Surface, width: int) -> pygame.Surface:
    """The window, grown to `width` and centred again when it is the display and narrower (a caller that sized
    it without the words panel); any other surface is drawn on as it is."""
    if screen.get_width() >= width or screen is not pygame.display.get_surface():
        return screen
    screen = pygame.display.set_mode((width, screen.get_height()))
    pygame.Window.from_display_module().position = pygame.WINDOWPOS_CENTERED  # grown rightwards it may leave the screen
    return screen


def play_episode(game: str, game_kwargs: dict[str, Any], partners: Callable[[np.ndarray, Any], np.ndarray],
                 seat: str, seed: int, fps: float, screen: pygame.Surface, held_keys: HeldKeys | None = None,
                 title: str = "") -> Episode | None:
    """Plays one episode in real time; the person's seat is marked 0 in `seats`, the partners' 1. Returns
    None when the person quits before the end. In games with words the partners' code is read off `partners`
    first and shown right of the game (the window grows to fit it)."""
    spec = games.get(game)
    info = spec.info(**game_kwargs)
    keymap = spec.key_map(role_of(seat), **game_kwargs)
    held_keys = held_keys or keyboard_keys(keymap)
    agents = info.agents
    me = agents.index(seat)
    env = spec.make_env(render_mode="rgb_array", **game_kwargs)
    panel = panel_size(game, game_kwargs)
    source = None
    font = pygame.font.Font(None, 24)
    meanings = word_meanings(partners, game, game_kwargs, [a for a in agents if a != seat])
    words = describe(meanings, you=seat)
    if meanings is not None:
        colours = dict(zip(meanings.landmarks, meanings.colours))
        # measured by drawing off-screen; the window grows if the panel does not fit
        screen = _widen(screen, panel[0] + 30 + draw_words(pygame.Surface((1, 1)), words, colours, (0, 0), font) + 10)
    clock = pygame.time.Clock()
    obs, _ = env.reset(seed=int(seed))
    actions_log, checks, team_return = [], [], 0.0
    try:
        while env.agents:
            for event in pygame.event.get():
                if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE,
                                                                                                pygame.K_q)):
                    return None
            batch = batchify(obs, agents, info.max_obs_dim)[None]  # (1, n, D)
            row = np.asarray(partners(batch, info))[0].copy()  # (n,), Box actions (n, d)
            row[me] = padded(human_action(keymap, held_keys()), row.shape[1:])
            acting = np.array([a in env.agents for a in agents])
            row = stored_actions(row[None], acting[None], info)[0]  # what the env gets: clipped to the box
            actions_log.append(row)
            obs, rewards, *_ = env.step(unbatchify(row, agents, env.agents, info.action_nvec, info.action_boxes))
            checks.append(state_checksum(env, batchify(obs, agents, info.max_obs_dim)))
            team_return += spec.team_reward_of(rewards, agents)
            frame = env.render()
            source = source or frame.shape[1::-1]
            screen.fill(BACKGROUND)
            screen.blit(to_surface(frame, panel), (10, HUD))
            position = panel_positions(spec, env, source, panel).get(seat)
            if position is not None:
                pygame.draw.circle(screen, HUMAN_COLOUR, (10 + position[0], HUD + position[1]), 24, 4)
            alive = "" if seat in env.agents or not env.agents else "  (your agent is out)"
            screen.blit(font.render(f"{title}   you: {seat} (red ring)", True, TEXT), (10, 8))
            screen.blit(font.render(keymap.help, True, DIM), (10, 32))
            if meanings is not None:
                draw_words(screen, words, colours, (panel[0] + 30, HUD), font)
            screen.blit(font.render(f"step {len(actions_log)}/{info.horizon}   team return {team_return:.2f}"
                                    f"{alive}   Esc quits", True, DIM), (10, 56))
            pygame.display.flip()
            clock.tick(fps)
    finally:
        close_env(env)
    seats = [0 if i == me else 1 for i in range(len(agents))]
    return Episode(int(seed), seats, team_return, np.stack(actions_log), np.array(checks, dtype=np.uint32), game,
                   dict(game_kwargs))


def human_match(game: str, game_kwargs: dict[str, Any], human: Episode,
                partners: Callable[[np.ndarray, Any], np.ndarray]) -> MatchResult:
    """The person's episode against the all-agent team on the same seed (duplicate, one seed)."""
    n = len(human.seats)
    agents_only = play_episodes(game, game_kwargs, [partners], [[0] * n], [human.seed])[0]
    agents_only.seats = [1] * n
    return MatchResult("human", [human.seed], [human.team_return], [agents_only.team_return],
                       [outcome(human.team_return, agents_only.team_return)], [human, agents_only])


def play_with_league(store: Store, league: dict[str, Any], generation: str | None, seat: str | None, name: str,
                     seed: int | None, fps: float | None, open_screen: Callable[[tuple[int, int]], pygame.Surface],
                     say: Callable[[str], None] = print) -> tuple[dict[str, Any], MatchResult] | None:
    """`league play`: picks the partner generation (the league's best partner when none is named), checks the
    seat, plays one episode in a window from `open_screen(size)`, and stores it as a `human` match against the
    all-agent team on the same seed. None when the person quit before the end, and a ValueError when they
    pressed no key that acts (nothing is stored either way)."""
    if generation is None:
        generation, why = best_partner(store, league)
        say(why)
    partner, policy = player_policy(store, league, generation)
    game, kwargs = league["game"], league["game_kwargs"]
    info = games.get(game).info(**kwargs)
    seat = seat or info.agents[0]
    if seat not in info.agents:
        raise ValueError(f"--seat {seat!r} is not a seat of {game}; seats: {', '.join(info.agents)}")
    seed = seed if seed is not None else next_seeds(store, league, 1)[0]
    at_table = has_table(game, kwargs)  # Hanabi: a turn-based table, `viewer.play_table`
    if not at_table:
        keymap = games.get(game).key_map(role_of(seat), **kwargs)  # a game with no way for a person to act: one line
    screen = open_screen(table_window_size() if at_table else play_window_size(game, kwargs))
    pygame.display.set_caption(f"league play: {seat} with {partner['name']}")
    title = f"human:{name} + {partner['name']}"
    episode = (play_table_episode(game, kwargs, policy, seat, seed, screen, title) if at_table else
               play_episode(game, kwargs, policy, seat, seed, fps or info.fps, screen, title=title))
    if episode is None:
        return None
    yours = episode.actions[:, info.agents.index(seat)]  # (T,), Box actions (T, d)
    idle = np.isin(yours, (keymap.idle, NO_ACTION)).all() if not info.continuous else \
        (np.isnan(yours) | (yours == padded(np.asarray(keymap.idle, dtype=np.float32), yours.shape[1:]))).all()
    if not at_table and idle:  # at the table every turn is a move
        raise ValueError("you pressed no key that acts in the whole episode: the agents played it alone, so it is "
                         "not stored as yours")
    human = store.ensure_player(league["id"], f"human:{name}", "human")
    result = human_match(game, kwargs, episode, policy)
    return store.add_match(league["id"], "human", human["id"], partner["id"], result), result
