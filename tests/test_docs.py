"""Docs are tested: every command has help with an example of itself, and the README documents every command.

One test per command, found the way `league` finds them (`list_commands`/`get_command`, so the commands that
packages add through the entry point, like the viewer's, are included), and matched as whole commands: the
README mentioning `league matches` does not document `league match`.

The README stays short (the reference lives in docs/*.md), its links and the pages' links lead somewhere, every
`league ...` command the pages write in code is a real one, and the README and `league`'s docstring give the
same one-line data flow.
"""

import re
from pathlib import Path

import click
import pytest

import league
from league.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250


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


def test_the_readme_is_short():
    lines = len(README.splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines, at most {README_MAX_LINES}: move some to docs/"


FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`([^`]+)`")  # inline code; may run over a line break, as markdown allows
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)


def prose(text):
    """The text without code (fenced blocks, then inline spans), where a link is a link."""
    return SPAN.sub("", FENCE.sub("", text))


def anchors(text):
    """The anchors GitHub gives the headings of a page: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", text), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_resolve(page):
    """Every relative link names a file that exists (the path without its anchor); an anchor into a page names
    one of its headings, so a section that moved to another page is not linked where it was."""
    broken = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z][a-z+.-]*:", target):  # https:, mailto:: not ours to check
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path) if path else page
        if not file.is_file():
            broken.append(f"{target} (no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file})")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(f"{target} (no heading #{anchor} in {file.name})")
    assert not broken, f"{page.name}: broken links: {broken}"


def code_commands(text):
    """The `league ...` commands written in code: each line of a fenced block, and each inline span, that
    starts with `league `."""
    lines = [line.strip() for block in FENCE.findall(text) for line in block.splitlines()]
    spans = [" ".join(span.split()) for span in SPAN.findall(FENCE.sub("", text))]
    return [line for line in lines + spans if line.startswith("league ")]


def command_of(line):
    """The command a line `league ...` runs: the longest name in COMMANDS it starts with as a whole command
    (`mentions`), `league` itself when an option follows (`league --help`), else None. A group followed by a
    word, not an option, names no command (`league bench frobnicate`)."""
    rest = line[len("league "):]
    if rest.startswith("-"):
        return ""
    names = [name for name in COMMANDS  # the name as a whole command: mentioned in itself and the character after
             if rest.startswith(name) and mentions(line[:len("league ") + len(name) + 1], name)]
    if not names:
        return None
    name = max(names, key=len)
    following = rest[len(name):].split()
    if isinstance(COMMANDS[name], click.Group) and following and not following[0].startswith("-"):
        return None
    return name


def test_command_of_reads_whole_commands():
    assert command_of("league bench env --seconds 2") == "bench env" and command_of("league match A B") == "match"
    assert command_of("league matches") == "matches" and command_of("league --help") == ""
    assert command_of("league frobnicate --x") is None and command_of("league bench frobnicate") is None
    assert command_of("league matchx") is None and command_of("league ratings,") is None
    assert code_commands("`league ratings` and\n```bash\n  league watch --latest  # see\nray start\n```\n") == [
        "league watch --latest  # see", "league ratings"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_commands_written_in_code_are_real(page):
    """Reference text moved to docs/ cannot go stale silently: a renamed or removed command fails here."""
    unknown = [line for line in code_commands(page.read_text()) if command_of(line) is None]
    assert not unknown, f"{page.name} writes commands that `league` does not have: {unknown}"


def test_the_readme_and_the_league_docstring_give_the_same_data_flow():
    docstring = league.__doc__.splitlines()
    flows = [line for line in docstring if line.startswith("Data flow: ")]
    assert len(flows) == 1 and docstring.index(flows[0]) <= 2, "league's docstring must open with one 'Data flow:'"
    assert flows[0] in README.splitlines(), f"README.md lacks the line of league's docstring: {flows[0]}"
    assert re.fullmatch(r"Data flow: games -> league \(.+\) -> viewer", flows[0]), flows[0]


@pytest.mark.parametrize("module", sorted(str(p.relative_to(ROOT)) for package in ("games", "league", "viewer")
                                          for p in (ROOT / package).glob("*.py")))
def test_every_module_is_on_the_architecture_page(module):
    """A new module gets its line in the module map (docs/architecture.md), so the map stays whole: by its path,
    or by its name in its package's paragraph; a game module (one with a `SPEC`) is covered by `games/<game>.py`."""
    page, path = (ROOT / "docs" / "architecture.md").read_text(), ROOT / module
    is_game = module.startswith("games/") and "\nSPEC = " in path.read_text()
    named = re.search(rf"(^|[`\s/]){re.escape(path.name)}([`\s,]|$)", page, flags=re.MULTILINE)
    assert named or is_game, f"docs/architecture.md never names {module}"
