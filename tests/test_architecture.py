"""The direction of the packages: games imports nothing of ours, league imports games, the viewer imports both.
Nothing under league/ may import the viewer or pygame (the library never imports its window). The games'
PettingZoo envs (and the knights_archers_zombies core) use pygame themselves; only imports written in the
guarded package are refused."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import games
import league

ROOT = Path(__file__).resolve().parent.parent

GUARD = """
import builtins
real_import = builtins.__import__
def guarded(name, globals=None, locals=None, fromlist=(), level=0):
    by = (globals or {}).get('__name__') or ''
    if level == 0 and name.split('.')[0] in BLOCKED and by.split('.')[0] == GUARDED:
        raise ImportError(f'{by} imports {name}: blocked in this test')
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = guarded
"""


def import_guarded(guarded: str, blocked: set[str], modules: list[str]) -> subprocess.CompletedProcess:
    """Imports `modules` in a fresh interpreter where any import of `blocked` written in `guarded` fails."""
    code = f"BLOCKED = {sorted(blocked)!r}\nGUARDED = {guarded!r}\n{GUARD}\nimport importlib\n" + "".join(
        f"importlib.import_module({m!r})\n" for m in modules)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def package_modules(package) -> list[str]:
    return sorted(f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)
                  if m.name != "__main__")  # importing it runs the CLI


def imports_written(package) -> set[str]:
    """Top-level names of every module an import statement in the package names, lazy ones inside functions
    included (the import test above only sees what runs at import time)."""
    names = set()
    for path in Path(package.__path__[0]).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_league_module_imports_with_pygame_and_viewer_blocked():
    modules = package_modules(league)
    assert {"league.cli", "league.grpo", "league.matches", "league.store"} <= set(modules)
    r = import_guarded("league", {"pygame", "viewer"}, modules)
    assert r.returncode == 0, r.stderr.strip().splitlines()[-1]
    assert not imports_written(league) & {"pygame", "viewer"}


def test_games_import_nothing_of_league_or_the_viewer():
    r = import_guarded("games", {"league", "viewer"}, ["games"] + package_modules(games))
    assert r.returncode == 0, r.stderr.strip().splitlines()[-1]
    assert not imports_written(games) & {"league", "viewer"}


def test_the_guard_refuses_an_import_of_the_blocked_package():
    """The checks above could pass by blocking nothing: the viewer's own modules import pygame and fail."""
    r = import_guarded("viewer", {"pygame"}, ["viewer.app"])
    assert r.returncode != 0 and "viewer.app imports pygame: blocked in this test" in r.stderr
