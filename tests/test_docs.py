"""Docs are tested: every command has help with an example of itself, and the README documents every command.

One test per command, found the way `league` finds them (`list_commands`/`get_command`, so the commands that
packages add through the entry point, like the viewer's, are included), and matched as whole commands: the
README mentioning `league matches` does not document `league match`.
"""

import re
from pathlib import Path

import click
import pytest

from league.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text()


def all_commands(group, ctx, prefix=()):
    """(name, command) of every command and group under `group`, depth first: `bench`, `bench env`, ..."""
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = " ".join((*prefix, name))
        yield path, command
        if isinstance(command, click.Group):
            yield from all_commands(command, ctx, (*prefix, name))


COMMANDS = dict(all_commands(cli, click.Context(cli)))
LEAVES = {name: command for name, command in COMMANDS.items() if not isinstance(command, click.Group)}


def mentions(text, name):
    """Where `text` names the command `league NAME` itself: followed by a space, a backtick or the line's end,
    so not a prefix of a longer command name (`league match` in `league matches`)."""
    return re.findall(rf"(?<![\w-])league {re.escape(name)}(?=[ `]|$)", text, flags=re.MULTILINE)


def test_commands_are_found_as_league_finds_them():
    """The entry point's commands are listed, and subcommands of groups are named with their group."""
    assert {"watch", "play", "render", "bench viewer"} <= set(LEAVES)
    assert {"bench env", "bench learn", "match", "matches"} <= set(LEAVES)
    assert "bench" in COMMANDS and "env" not in COMMANDS


def test_whole_command_matching():
    assert mentions("see `league matches`.", "match") == []
    assert mentions("`league bench envs` and league benchmark env", "bench env") == []
    assert mentions("`league match A B`", "match") and mentions("run `league match`", "match")
    assert mentions("league bench env\n", "bench env") and mentions("try league ratings", "ratings")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_has_help(name):
    """Every command and group has help; every command's help ends with an example that runs that command."""
    command = COMMANDS[name]
    assert command.help and command.help.strip(), f"`league {name}` has no help"
    if name in LEAVES:
        examples = [line for line in command.help.splitlines() if "Example:" in line]
        assert examples, f"`league {name}` help has no 'Example:'"
        assert any(mentions(line, name) for line in examples), f"`league {name}` example does not run it: {examples}"


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_command_is_in_the_readme(name):
    assert mentions(README, name), f"README.md never mentions `league {name}`"
