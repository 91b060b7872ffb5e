"""Docs are tested: every command has help with an example, and the README documents every command."""

from pathlib import Path

import click

from league.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text()


def all_commands(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from all_commands(command, path)
        else:
            yield " ".join(path), command


def test_every_command_has_help_with_an_example():
    for name, command in all_commands(cli):
        assert command.help and "Example:" in command.help, name


def test_every_command_is_in_the_readme():
    for name, _ in all_commands(cli):
        assert f"league {name}" in README, name
