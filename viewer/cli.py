"""The viewer's commands on the `league` command: watch, play, render and bench viewer.

They live here, not in `league/`, so the library never imports its window (`league` knows nothing of pygame).
`league.cli` finds them through the `coop_league.commands` entry point that pyproject.toml declares, which
calls `register` with the `league` group.
"""

from __future__ import annotations

import os
from typing import Any

import click

from league.cli import ROW_ID, SEED, FiniteFloat, db_option, echo_json, json_option, league_for, league_option, opened
from league.limits import LEAGUE_NAME


def open_window(size: tuple[int, int] | None = None) -> Any:
    """Initializes pygame and opens the window; no display is one clear error."""
    import pygame

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        pygame.display.init()
        pygame.font.init()
        return pygame.display.set_mode(size or (640, 480))
    except pygame.error as e:
        raise click.ClickException(f"cannot open a display window ({e}); set DISPLAY or use `league render`") from None


@click.command("watch")
@click.argument("players", nargs=-1)
@click.option("--latest", is_flag=True, help="Show the newest stored match.")
@click.option("--seeds", type=click.IntRange(1, 10_000), default=4, show_default=True,
              help="Seeds of a new match between A and B.")
@click.option("--episode", type=click.IntRange(min=1), default=1, show_default=True, help="Episode to start at.")
@click.option("--speed", type=click.Choice(["0.25", "0.5", "1", "2", "4", "8", "16"]), default="1",
              show_default=True, help="Playback speed.")
@league_option
@db_option
def watch_cmd(players: tuple[str, ...], latest: bool, seeds: int, episode: int, speed: str, league_name: str,
              db: str) -> None:
    """Replay a stored match side by side (re-simulated, checksums verified).

    Give a MATCH id, --latest, or two players A B to play (and store) a new match first. Keys: space pause,
    left/right step, +/- speed, Home restart, N/P episode, S screenshot, H help, Esc/Q quit. Exit status 3
    when a replay does not re-simulate as stored.

    Example: league watch --latest
    """
    from league.matches import play_match
    from viewer.app import ReplayViewer, load_match

    with opened(db) as store:
        league = store.league(league_name)
        if latest and not players:
            recent = store.matches(league["id"])
            if not recent:
                raise click.ClickException(f"league {league_name!r} has no matches yet")
            match_id = recent[0]["id"]
        elif len(players) == 1 and not latest:
            match_id = ROW_ID.convert(players[0], None, None) if players[0].isdigit() else None
            if match_id is None:
                raise click.BadParameter(f"not a match id: {players[0][:40]!r}", param_hint="MATCH")
        elif len(players) == 2 and not latest:
            match_id = play_match(store, league, players[0], players[1], seeds)["id"]
            click.echo(f"played and stored match {match_id}")
        else:
            raise click.UsageError("give a MATCH id, --latest, or two players A B")
        view = load_match(store, league, match_id)
    if episode > len(view.pairs):
        raise click.BadParameter(f"match {match_id} has {len(view.pairs)} episodes", param_hint="--episode")
    open_window(ReplayViewer.window_size(view))
    code = ReplayViewer(view, speed=float(speed), episode=episode - 1).run()
    raise SystemExit(code)


def default_name(user: str | None) -> str:
    """`$USER` where it is a valid name in the ratings, else "player" (a login with a space or a dot first
    must not make `league play` fail on an option the person never gave)."""
    return user if user and LEAGUE_NAME.fullmatch(user) else "player"


@click.command("play")
@click.option("--with", "generation", help="Generation whose agents fill the other seats (default: the "
              "league's best partner by `league partners` scores, else the top-rated generation).")
@click.option("--seat", help="Agent you control (default: the first).")
@click.option("--fps", type=FiniteFloat(min=1, max=120), help="Frames per second (default: the game's).")
@click.option("--name", default=lambda: default_name(os.environ.get("USER")), show_default="$USER",
              help="Your name in the ratings (human:NAME).")
@click.option("--seed", type=SEED, help="Start seed (default: a fresh held-out seed).")
@league_option
@db_option
def play_cmd(generation: str | None, seat: str | None, fps: float | None, name: str, seed: int | None,
             league_name: str, db: str) -> None:
    """Play one seat alongside a trained generation; the episode is stored as a human match.

    Your episode is compared in duplicate with the all-agent team on the same seed, so human:NAME gets a
    rating. Held keys act every frame; see docs/games.md for each game's keys. Esc quits without storing.

    Example: league play --with default/alpha/g2 --seat agent_1
    """
    from viewer.play import play_with_league

    if not LEAGUE_NAME.fullmatch(name):
        raise click.BadParameter(f"1 to 64 letters, digits, '_', '-' or '.', got {name[:64]!r}", param_hint="--name")
    with opened(db) as store:
        played = play_with_league(store, league_for(store, league_name, generation), generation, seat, name, seed,
                                  fps, open_window, click.echo)
    if played is None:
        click.echo("quit before the end: nothing stored")
        return
    match, result = played
    verdict = {1.0: "you win", 0.5: "draw", 0.0: "the agents win"}[result.outcomes[0]]
    click.echo(f"match {match['id']}: team return with you {result.returns_a[0]:.2f}, agents alone "
               f"{result.returns_b[0]:.2f}: {verdict}. See `league ratings`.")


@click.command("render")
@click.argument("match_id", type=ROW_ID)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.gif, FILE.mp4 or FILE.png.")
@click.option("--episode", type=click.IntRange(min=1), help="Only this episode (default: all; PNG: the first).")
@league_option
@db_option
def render_cmd(match_id: int, out: str, episode: int | None, league_name: str, db: str) -> None:
    """Render a stored match headless with the viewer's drawing: GIF/MP4 of its episodes, or a PNG.

    Example: league render 3 --out match3.gif
    """
    from viewer.app import load_match
    from viewer.render import render_match

    with opened(db) as store:
        view = load_match(store, store.league(league_name), match_id)
    if episode is not None and episode > len(view.pairs):
        raise click.BadParameter(f"match {match_id} has {len(view.pairs)} episodes", param_hint="--episode")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    path, count = render_match(view, out, None if episode is None else [episode - 1])
    click.echo(f"wrote {path} ({count} frames)")


@click.command("viewer")
@click.option("--frames", type=click.IntRange(min=10, max=10**6), default=2000, show_default=True)
@json_option
def bench_viewer_cmd(frames: int, as_json: bool) -> None:
    """Frames per second of the side-by-side drawing loop for simple_spread, headless.

    Compared with the game's own fps (10): the viewer must keep up at x16 with room to spare.

    Example: league bench viewer --frames 2000
    """
    from viewer.bench import bench_viewer

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    report = bench_viewer(frames)
    if as_json:
        echo_json(report)
        return
    click.echo(f"side-by-side drawing loop: {report['fps']:,.0f} frames/s headless "
               f"({report['ratio']:.0f}x the game's {report['game_fps']} fps)")


def register(cli: click.Group) -> None:
    """Adds the viewer's commands to the `league` group (the `coop_league.commands` entry point)."""
    for command in (watch_cmd, play_cmd, render_cmd):
        cli.add_command(command)
    bench = cli.commands["bench"]
    assert isinstance(bench, click.Group)
    bench.add_command(bench_viewer_cmd)
