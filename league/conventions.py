"""What a team's words mean, read off how it plays: for a person who takes a seat beside it (`league play`).

In simple_speaker_listener and simple_reference a team invents its own code. Which word names which landmark
is whatever training happened to settle on; it differs from team to team and from the scripted baseline. A
person who plays with the team must follow that code, so the viewer shows it.

Why behavioural: the code is not written anywhere inside a network. A plain MLP, a `ChooseAndSteer` listener
and a `MoveAndSay` agent all hold it spread over their weights, and a scripted or random team has no weights at
all. What every policy shares is that it acts, so we watch it act and read the code off its actions:

- a speaking seat's word for goal g: play the team greedily on held-out seeds (the batched core); in each
  episode take the seat's majority word over the steps after the first SETTLE (in simple_reference a word may
  depend on what the agent has heard, and nothing is heard on the first step), then the majority over the
  episodes whose goal is g. Its consistency is the share of those episodes that agree.
- a listening seat's landmark for word w: the same seeds, with the seat it hears replaced by a constant
  speaker that says w at every step (and does not move); the landmark the listener ends nearest to, majority
  over the episodes, with the share that agree.

The goal colour a speaker sees and the landmarks a listener sees are read from their observations, the words
from their actions; each game's `GameSpec.words` says where it puts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence

import numpy as np

import games
from games.rollout import Policy, rollout
from games.spec import role_of
from league.evaluate import EVAL_SEED

SETTLE = 3
"""Steps at the start of an episode whose words do not count (nothing has been heard yet)."""
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""mpe2 writes word w on screen as LETTERS[w] ("speaker_0 sends B"), so people see the words as letters."""
COLOUR_NAMES = ("red", "green", "blue")
"""A landmark's name: its colour's strongest channel (both games colour landmarks 0, 1, 2 red, green, blue)."""


class Meaning(NamedTuple):
    """One entry of a code: a word (what a speaker says for a goal) or a landmark (where a listener goes)."""

    value: int
    consistency: float
    """Share of the episodes that agree with `value` (1.0: always)."""


@dataclass(frozen=True)
class WordMeanings:
    """A team's code as it plays it, for some of its seats."""

    game: str
    landmarks: tuple[str, ...]
    """Landmark names by index ("red", "green", "blue")."""
    colours: tuple[tuple[int, int, int], ...]
    """RGB of each landmark as mpe2 draws it (its colour x 200)."""
    says: dict[str, dict[int, Meaning]]
    """Speaking seat -> goal landmark -> the word it says for it."""
    goes: dict[str, dict[int, Meaning]]
    """Listening seat -> word -> the landmark it goes to when it hears it."""
    hears: dict[str, str]
    """Listening seat -> the seat whose word it hears."""
    options: dict[str, Any] = field(default_factory=dict)
    """The game's options (with `continuous_actions` a person's keys send numbers: `_word_keys`)."""


def word_meanings(policy: Any, game: str, game_kwargs: dict[str, Any] | None = None,
                  seats: Sequence[str] | None = None, episodes: int = 64, seed: int = EVAL_SEED) -> WordMeanings | None:
    """The code of `policy` (a `TeamPolicy`, played greedily, or any `obs (B, n, D) -> actions (B, n)`
    callable) for `seats` (default: all), read off its play on `episodes` held-out seeds from `seed` (see the
    module docstring). None for games without words."""
    spec = games.get(game)
    words = spec.words
    if words is None:
        return None
    kwargs = dict(game_kwargs or {})
    colours = np.array(words.colours)  # (L, 3)
    info = spec.info(**kwargs)
    act = policy.numpy_policy(deterministic=True) if hasattr(policy, "numpy_policy") else policy
    seats = list(info.agents if seats is None else seats)
    seeds = list(range(seed, seed + episodes))

    says: dict[str, dict[int, Meaning]] = {}
    speakers = [s for s in seats if role_of(s) in words.goal]
    if speakers:
        obs, actions, _ = _play(spec, info, kwargs, act, seeds)  # (T, B, n, D), (T, B, n)
        settle = min(SETTLE, len(actions) - 1)
        for seat in speakers:
            i, role = info.agents.index(seat), role_of(seat)
            seen = obs[0, :, i, words.goal[role] : words.goal[role] + 3]  # (B, 3) the goal colour it sees
            goal = np.argmin(np.linalg.norm(seen[:, None] - colours[None], axis=-1), axis=-1)  # (B,)
            spoken = words.word_of(role, actions[settle:, :, i], info.continuous)  # (T - settle, B)
            word = np.array([_majority(spoken[:, b]).value for b in range(len(seeds))])  # (B,) per episode
            says[seat] = {int(g): _majority(word[goal == g]) for g in np.unique(goal)}

    goes: dict[str, dict[int, Meaning]] = {}
    for seat in (s for s in seats if role_of(s) in words.landmarks):
        said = np.repeat(np.arange(words.words), episodes)  # (W * E,) word by word, each on every seed
        speaker = info.agents.index(words.hears[seat])
        saying = words.saying(said, max(info.n_actions.values()) if info.continuous else 0)  # (W * E[, d])
        _, _, last = _play(spec, info, kwargs, act, seeds * words.words, (speaker, saying))
        first = words.landmarks[role_of(seat)]
        places = last[:, info.agents.index(seat), first : first + 2 * len(words.colours)].reshape(len(said), -1, 2)
        nearest = np.argmin(np.linalg.norm(places, axis=-1), axis=-1)  # (W * E,) relative to the listener
        goes[seat] = {w: _majority(nearest[said == w]) for w in range(words.words)}

    names = tuple(COLOUR_NAMES[int(np.argmax(c))] for c in colours)
    drawn = tuple(tuple(int(v) for v in c * 200) for c in colours)  # mpe2 draws `entity.color * 200`
    hears = {s: words.hears[s] for s in goes}
    return WordMeanings(game, names, drawn, says, goes, hears, kwargs)


def is_natural(meanings: WordMeanings | None, consistency: float = 0.75) -> bool:
    """Whether a code is the natural one, the one a person guesses: every speaker says word k for landmark k
    and every listener goes to landmark k when it hears word k, each in at least `consistency` of the episodes.
    Other-Play training (`other_play`) leaves no other code standing."""
    if meanings is None or not (meanings.says or meanings.goes):
        return False
    said = all(m.value == goal and m.consistency >= consistency
               for code in meanings.says.values() for goal, m in code.items())
    heard = all(m.value == word and m.consistency >= consistency
                for code in meanings.goes.values() for word, m in code.items() if word < len(meanings.landmarks))
    return said and heard


def describe(meanings: WordMeanings | None, you: str | None = None) -> list[str]:
    """One line per entry of the code, as the viewer shows it: "speaker_0 sends B for red  100%", "listener_0
    hears A: goes to green  98%" (words as the game writes them on screen, then the share of episodes that
    agree). With `you` (the person's seat) the lines say what to do: for a partner you listen to, where each
    word sends you ("speaker_0 sends B: you go to red"); for a partner who listens to you, which of your keys
    sends which word and where that partner then goes ("key 2 sends B: listener_0 goes to red"), or "you
    always send A: ..." when your keys cannot choose a word (simple_reference's key map). A word a speaker
    sends for several goals names none of them, so a line under that seat's says so ("  so C could be red /
    green")."""
    if meanings is None:
        return []
    place = meanings.landmarks
    lines = []
    if is_natural(meanings):  # the one thing a person needs to know: say what you see, hear what is said
        lines.append("natural code: each word names its landmark")
        lines.append("  ".join(f"{LETTERS[k]} = {name}" for k, name in enumerate(place)))
    heard = games.get(meanings.game).words.hears.get(you or "")  # the seat you listen to, if any
    for seat, code in meanings.says.items():
        if seat == heard:  # what you hear, in the order you look it up: by word
            lines += [f"{seat} sends {LETTERS[m.value]}: you go to {place[goal]}  {m.consistency:.0%}"
                      for goal, m in sorted(code.items(), key=lambda item: item[1].value)]
        else:
            lines += [f"{seat} sends {LETTERS[m.value]} for {place[goal]}  {m.consistency:.0%}"
                      for goal, m in sorted(code.items())]
        for word in sorted({m.value for m in code.values()}):  # a word sent for several goals names none of them
            named = [place[goal] for goal, m in sorted(code.items()) if m.value == word]
            if len(named) > 1:
                lines.append(f"  so {LETTERS[word]} could be {' / '.join(named)}")
    for seat, code in meanings.goes.items():
        keys = (_word_keys(meanings.game, you, meanings.options) if you is not None and meanings.hears[seat] == you
                else {})
        if len(keys) == 1:
            m = code[next(iter(keys))]
            lines.append(f"you always send {LETTERS[next(iter(keys))]}: {seat} goes to {place[m.value]}  "
                         f"{m.consistency:.0%}")
        elif keys:
            lines += [f"key {'/'.join(names)} sends {LETTERS[w]}: {seat} goes to {place[code[w].value]}  "
                      f"{code[w].consistency:.0%}" for w, names in keys.items() if names]
        else:
            lines += [f"{seat} hears {LETTERS[w]}: goes to {place[m.value]}  {m.consistency:.0%}"
                      for w, m in code.items()]
    return lines


def _word_keys(game: str, seat: str, options: dict[str, Any] | None = None) -> dict[int, list[str]]:
    """Word -> the keys of the seat's key map that send it (the idle action's word too, with no key); empty
    when the seat does not speak. With Box actions a held key's numbers add to the idle ones, clipped to the
    box (`games.spec.KeyMap`), so a key's word is read off that sum."""
    role = role_of(seat)
    spec = games.get(game)
    keymap = spec.key_map(role, **(options or {}))
    box = spec.info(**(options or {})).action_boxes.get(role)

    def word(action: Any) -> Any:
        return spec.words.word_of(role, action, box is not None)

    def held(action: Any) -> Any:  # what the seat sends while the key is held: numbers add to the idle ones
        return np.clip(np.add(keymap.idle, action), *box) if box is not None else action

    if word(keymap.idle) is None:
        return {}
    keys: dict[int, list[str]] = {int(word(keymap.idle)): []}
    for name, action in keymap.keys.items():
        keys.setdefault(int(word(held(action))), []).append(name)
    return dict(sorted(keys.items()))


def _majority(values: np.ndarray) -> Meaning:
    """The most frequent value (ties: the smallest) and its share."""
    counts = np.bincount(np.asarray(values, dtype=np.int64))
    return Meaning(int(np.argmax(counts)), float(counts.max() / len(values)))


def _play(spec: Any, info: Any, kwargs: dict[str, Any], policy: Policy, seeds: list[int],
          forced: tuple[int, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One episode per seed on `spec.batch`; `forced = (seat index, actions (B,) or numbers (B, d))` replaces that
    seat's actions at every step. -> observations before each step `(T, B, n, D)`, actions `(T, B, n[, d])`, the
    last observation `(B, n, D)`."""

    def played(obs: np.ndarray, info: Any) -> np.ndarray:
        actions = np.array(policy(obs, info), dtype=np.float32 if info.continuous else np.int64)  # (B, n[, d])
        if forced is not None:
            actions[:, forced[0]] = forced[1]
        return actions

    batch = spec.batch(len(seeds), **kwargs)
    try:
        out = rollout(batch, seeds, played, info, spec.team_reward, record=True)
        return out.observations, out.actions, out.last_obs
    finally:
        batch.close()
