"""Shared fixtures. Tests never open a real window: SDL uses its dummy drivers."""

import hashlib
import os
import signal
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# The Ctrl-C tests send SIGINT to a league they start. A suite started in the background (`./run.sh test &`, nohup)
# inherits SIGINT ignored, and so would every league it starts, which then rightly ignores Ctrl-C: give them the
# default a person at a terminal has (an exec resets a handled signal to its default, an ignored one stays ignored).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def one_error_line(result, *needles):
    """A CLI failure a person can read: non-zero exit, no traceback, exactly one `Error` line naming
    every needle."""
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]


TINY_GRPO = dict(groups=8, group_size=4, hidden=16)
"""GRPO settings of a tiny league: small groups and a small network, so a generation trains in seconds."""


@pytest.fixture(scope="module")
def tiny_league():
    """Builds small leagues: `tiny_league(directory, game, game_kwargs, grpo=..., **league)` opens
    `directory/league.db`, runs `LeagueManager` with checkpoints in `directory/ck`, and returns (store, manager).

    `grpo`: settings over TINY_GRPO, or a whole GRPOConfig (which names the game); `league`: LeagueConfig
    settings over one team, no trained generation (g0 with its scheduled matches) and 2 seeds a match.
    Module-scoped, so module-scoped fixtures can build their league once (give a `tmp_path_factory.mktemp`
    folder); stores still open at the end of the module are closed."""
    from league.config import GRPOConfig, LeagueConfig
    from league.manager import LeagueManager
    from league.store import Store

    stores = []

    def make(directory, game="simple_spread", game_kwargs=None, grpo=None, **league):
        directory = Path(directory)
        if not isinstance(grpo, GRPOConfig):
            grpo = GRPOConfig(game=game, game_kwargs=game_kwargs or {}, **{**TINY_GRPO, **(grpo or {})})
        config = LeagueConfig(**{"teams": 1, "generations": 0, "match_seeds": 2, **league}, grpo=grpo)
        store = Store.open(directory / "league.db", create=True)
        stores.append(store)
        manager = LeagueManager(store, config, directory / "ck")
        manager.run()
        return store, manager

    yield make
    for store in stores:
        store.close()


def weights_digest(policy) -> str:
    """sha256 of a network's weights, name by name: equal exactly when every float is."""
    h = hashlib.sha256()
    for key, value in sorted(policy.state_dict().items()):
        h.update(key.encode())
        h.update(value.detach().cpu().numpy().tobytes())
    return h.hexdigest()
