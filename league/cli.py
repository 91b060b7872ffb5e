"""The `league` command: thin click commands that parse options, call one function and print.

Expected failures (unknown game, bad option values, ...) become one `Error: ...` line and exit status 1;
never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import math
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

import games
from games.frames import Frames
from league.ratings import MAX_RATED_PLAYERS


class FiniteFloat(click.FloatRange):
    """click's FloatRange that also refuses nan and inf (which pass any comparison or every upper bound)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


SEED = click.IntRange(0, 2**32 - 1)
"""A seed typed on the command line: what numpy and PettingZoo take, and SQLite stores."""
ROW_ID = click.IntRange(1, 2**63 - 1)
"""A stored row's id (a match): what SQLite can hold."""
MAX_WORKERS = 1024
"""Most local Ray workers `league train --workers` starts (each is a process)."""
COMMANDS_GROUP = "coop_league.commands"
"""Entry-point group of packages that add commands to `league` (`module:register`, called with the group).
The viewer's commands come this way, so this package never imports the viewer."""


class LeagueGroup(click.Group):
    """Turns the errors our packages raise on bad input into click's one-line `Error: ...` exit, and adds the
    commands of installed packages (COMMANDS_GROUP) the first time commands are looked up."""

    plugins_loaded = False

    def load_plugins(self) -> None:
        if self.plugins_loaded:
            return
        self.plugins_loaded = True
        for entry in importlib.metadata.entry_points(group=COMMANDS_GROUP):
            entry.load()(self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self.load_plugins()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugins()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        from league.store import StoreError

        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `league config --example | head`: the reader left, nothing to report
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            raise SystemExit(0) from None
        except sqlite3.Error as e:  # a damaged row or file the store did not catch: still one line
            raise click.ClickException(f"the database: {type(e).__name__}: {games.spec.one_line(e)}") from e
        except (games.GameError, ValueError, OSError, StoreError) as e:
            raise click.ClickException(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__) from e


def json_option(f: Any) -> Any:
    """`--json`: machine-readable output for scripts."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def game_option(f: Any, default: str | None = "simple_spread") -> Any:
    """`--game NAME` (registered, or package.module:callable) and `--game-option KEY=VALUE` (repeated)."""
    f = click.option("--game-option", "game_options", multiple=True, metavar="KEY=VALUE",
                     help="A game option (repeat for more); VALUE is read as JSON where it parses, else as text.")(f)
    if default is None:
        return click.option("--game", help="Game: a name or package.module:callable (default simple_spread, or the "
                            "config file's).")(f)
    return click.option("--game", default=default, show_default=True,
                        help="Game: a name (see `league games`) or package.module:callable returning a ParallelEnv.")(f)


def config_game_option(f: Any) -> Any:
    """`--game` and `--game-option` of a command that also reads a config file: the file's game unless given."""
    return game_option(f, default=None)


def parse_game_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """`("N=4", "local_ratio=0.3", "name=x")` -> `{"N": 4, "local_ratio": 0.3, "name": "x"}`; a pair without `=`,
    an empty or repeated key, or a number that is not finite is a usage error."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"expected KEY=VALUE with KEY a name, got {pair!r}", param_hint="--game-option")
        if key in options:
            raise click.BadParameter(f"{key} is given twice", param_hint="--game-option")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        if isinstance(value, float) and not math.isfinite(value):
            raise click.BadParameter(f"{key} must be a finite number, got {text}", param_hint="--game-option")
        options[key] = value
    return options


def positive_ints(text: str, option: str, most: int) -> tuple[int, ...]:
    """A comma-separated list of integers from 1 to `most` (`1,64,1024`); anything else is a usage error naming
    `option`."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(f"not a list of integers: {text!r}", param_hint=option) from None
    if min(values) < 1 or max(values) > most:
        raise click.BadParameter(f"values must be from 1 to {most:,}, got {text!r}", param_hint=option)
    return values


def echo_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(cls=LeagueGroup)
@click.version_option(package_name="coop-league")
def cli() -> None:
    """Train leagues of cooperative agent teams with GRPO, rate them, watch and play with them."""


@cli.command("games")
@click.option("--game", "named", help="Describe this game (a name or package.module:callable) instead of listing.")
@click.option("--game-option", "game_options", multiple=True, metavar="KEY=VALUE", help="An option of --game.")
@json_option
def games_cmd(named: str | None, game_options: tuple[str, ...], as_json: bool) -> None:
    """List the registered games with agents, roles, spaces and horizon.

    Example: league games --json
    """
    rows = []
    kwargs = parse_game_options(game_options)
    if kwargs and not named:
        raise click.UsageError("--game-option needs --game")
    for name in [named] if named else games.names():
        spec = games.get(name)
        info = spec.info(**kwargs)
        rows.append(
            {
                "name": name,
                "summary": spec.summary,
                "agents": list(info.agents),
                "roles": {
                    r: {"agents": list(a), "obs_shape": list(info.obs_shapes[r]), "actions": info.n_actions[r],
                        **({"box": [list(b) for b in info.action_boxes[r]]} if r in info.action_boxes else {}),
                        **({"frames": info.frames} if r in info.images else {})}
                    for r, a in info.roles.items()
                },
                "horizon": info.horizon,
                "fps": info.fps,
                "batched_core": spec.has_core(**kwargs),
                "scripted": spec.scripted is not None,
                "symmetries": len(spec.symmetries(**kwargs)),  # declared relabellings (Other-Play), identity included
            }
        )
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        symmetries = f", {row['symmetries']} symmetries" if row["symmetries"] else ""
        click.echo(f"{row['name']}  (horizon {row['horizon']}, {row['fps']} fps"
                   f"{', batched core' if row['batched_core'] else ''}"
                   f"{'' if row['scripted'] else ', no scripted baseline'}{symmetries})")
        click.echo(f"  {row['summary']}")
        for role, r in row["roles"].items():
            box = r.get("box")
            numbers = f"{r['actions']} number{'s' if r['actions'] != 1 else ''}"
            acts = f"{numbers} in [{min(box[0]):g}, {max(box[1]):g}]" if box else r["actions"]
            seen = f" (pictures: {Frames(**r['frames']).describe()})" if "frames" in r else ""
            click.echo(f"  {role}: {', '.join(r['agents'])}  obs {tuple(r['obs_shape'])}{seen}  actions {acts}")


@cli.group()
def bench() -> None:
    """Benchmarks, reported as ratios to a reference measured in the same run."""


@bench.command("env")
@game_option
@click.option("--seconds", type=FiniteFloat(min=0.1, max=3600), default=2.0, show_default=True, help="Time per measurement.")
@click.option("--batch-sizes", help="Comma-separated batch sizes (default 1,64,1024,4096 for a batched core, "
              "at most 65,536; 1,8,32 for the generic runner, which holds one real env per slot, at most 256).")
@json_option
def bench_env_cmd(game: str, game_options: tuple[str, ...], seconds: float, batch_sizes: str | None,
                  as_json: bool) -> None:
    """Environment steps per second: PettingZoo reference loop vs the batched runner.

    An environment step is every agent acting once.

    Example: league bench env --game simple_spread
    """
    from league.bench import bench_env

    spec, kwargs = games.get(game), parse_game_options(game_options)
    core = spec.has_core(**kwargs)
    if batch_sizes is None:
        batch_sizes = "1,64,1024,4096" if core else "1,8,32"
    # a batched core holds a few KB per game; the generic runner one real env per slot
    sizes = positive_ints(batch_sizes, "--batch-sizes", 65_536 if core else 256)
    result = bench_env(game, sizes, seconds, **kwargs)
    if as_json:
        echo_json(result)
        return
    click.echo(f"{game}: reference PettingZoo loop {result['reference_steps_per_s']:,.0f} env steps/s")
    for row in result["batched"]:
        click.echo(f"  {result['batch_kind']} B={row['num_envs']:>5}: {row['steps_per_s']:>12,.0f} env steps/s"
                   f"  ({row['ratio']:,.1f}x)")
    click.echo(f"best ratio: {result['best_ratio']:,.1f}x")


def grpo_config(game: str | None, game_options: tuple[str, ...], config_file: str | None, seed: int | None) -> Any:
    """GRPOConfig from defaults, then `[grpo]` (or `[game]`) of the TOML file, then the command-line game,
    options and seed."""
    from league.config import GRPOConfig, read_toml, with_preset

    data = dict(read_toml(config_file).get("grpo", {})) if config_file else {}
    if game is not None:
        data["game"] = game
    if game_options:
        data["game_kwargs"] = parse_game_options(game_options)
    if seed is not None:
        data["seed"] = seed
    return GRPOConfig.from_dict(with_preset(data), source=config_file, prefix="grpo." if config_file else "")


@bench.command("learn")
@config_game_option
@click.option("--minutes", type=FiniteFloat(min=0, min_open=True, max=10_000), default=5.0, show_default=True,
              help="Training time (evaluation excluded).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML file with a [grpo] table.")
@click.option("--seed", type=SEED, help="Overrides the config's seed.")
@click.option("--eval-every", type=FiniteFloat(min=0, min_open=True, max=10**6), default=10.0, show_default=True,
              help="Seconds of training between greedy evaluations.")
@click.option("--eval-episodes", type=click.IntRange(min=2, max=10_000), default=200, show_default=True,
              help="Held-out seeds per evaluation.")
@click.option("--out", type=click.Path(dir_okay=False), help="Final checkpoint path "
              "(default checkpoints/bench/<game>.pt).")
@click.option("--stop-at-target", is_flag=True, help="Stop once normalized score 1.0 is reached.")
@json_option
def bench_learn_cmd(game: str | None, game_options: tuple[str, ...], minutes: float, config_file: str | None,
                    seed: int | None, eval_every: float, eval_episodes: int, out: str | None, stop_at_target: bool,
                    as_json: bool) -> None:
    """Train a team from scratch; report time and env steps to normalized score 0.5, 0.8 and 1.0.

    Scores are greedy play on held-out seeds in the PettingZoo env: (R - random) / (scripted - random).

    Example: league bench learn --game simple_spread --minutes 3
    """
    from league.bench import bench_learn

    config = grpo_config(game, game_options, config_file, seed)
    game = config.game
    out = out or f"checkpoints/bench/{re.sub(r'[^A-Za-z0-9_.-]', '_', game)}.pt"
    refuse_to_overwrite(out)
    report = bench_learn(config, minutes, eval_every, eval_episodes, out, stop_at_target, progress=not as_json)
    if as_json:
        echo_json(report)
        return
    click.echo(f"{game}: {report['env_steps']:,} env steps in {report['train_seconds']:.0f}s of training")
    click.echo(f"  training {report['train_steps_per_s']:,.0f} env steps/s; reference env loop "
               f"{report['reference_steps_per_s']:,.0f}/s ({report['throughput_ratio']:.1f}x)")
    for name in ("random", "scripted", "trained"):
        if report[name] is not None:
            mean, half = report[name]
            click.echo(f"  {name:>8}: team return {mean:8.2f} +- {half:.2f} ({report['eval_episodes']} seeds)")
    if report["final_score"] is not None:
        click.echo(f"  final normalized score {report['final_score']:.2f}")
    for target in ("0.5", "0.8", "1.0"):
        hit = report["reached"].get(target)
        click.echo(f"  score {target}: " + (f"{hit['train_seconds']:.0f}s, {hit['env_steps']:,} env steps"
                                            if hit else "not reached"))
    click.echo("  evaluations (training seconds, env steps, greedy team return, normalized score):")
    for point in report["curve"]:  # the curve itself: a long run's is what a person came for
        score = "" if point["score"] is None else f"  score {point['score']:.3f}"
        click.echo(f"    {point['train_seconds']:7.0f}s {point['env_steps']:>13,} {point['greedy_return']:8.2f} "
                   f"+- {point['interval']:.2f}{score}")
    click.echo(f"  checkpoint: {report['checkpoint']}")


def refuse_to_overwrite(out: str) -> None:
    """`--out` may replace an earlier checkpoint, never another file (a league database, say)."""
    from league.checkpoints import CheckpointError, load_checkpoint

    if os.path.lexists(out):
        try:
            load_checkpoint(out)
        except (CheckpointError, OSError):
            raise click.BadParameter(f"{out} exists and is not a checkpoint: refusing to overwrite it",
                                     param_hint="--out") from None


# ---------------------------------------------------------------- league manager: train and inspect

def db_option(f: Any) -> Any:
    """`--db PATH`: the league database (SQLite)."""
    return click.option("--db", default="league.db", show_default=True, type=click.Path(dir_okay=False),
                        help="SQLite database file.")(f)


def league_option(f: Any) -> Any:
    """`--league NAME`."""
    return click.option("--league", "league_name", default="default", show_default=True, help="League name.")(f)


def league_for(store: Any, league_name: str, *names: str | None) -> dict[str, Any]:
    """The league a command works in: `--league`, or, where it was left at its default, the one that full
    generation names (`league/team/gN`) among `names` name, so those are accepted anywhere."""
    if click.get_current_context().get_parameter_source("league_name") == click.core.ParameterSource.DEFAULT:
        named = {name.split("/")[0] for name in names if name and name.count("/") == 2}
        if len(named) == 1:
            league_name = named.pop()
    return store.league(league_name)


@contextlib.contextmanager
def opened(db: str, create: bool = False) -> Iterator[Any]:
    """The database, open for the block and closed after it, errors or not; reading commands never
    create one."""
    from league.store import Store

    store = Store.open(db, create=create)
    try:
        yield store
    finally:
        store.close()


@cli.command("config")
@click.option("--example", is_flag=True, required=True, help="Print a documented TOML file with every setting.")
def config_cmd(example: bool) -> None:
    """Print a documented example configuration file.

    Example: league config --example > league.toml
    """
    from league.example_config import example_toml

    click.echo(example_toml(), nl=False)


@cli.command("train")
@config_game_option
@league_option
@click.option("--teams", type=int, help="Number of teams (lineages).")
@click.option("--generations", type=int, help="Trained generations per team.")
@click.option("--steps-per-generation", type=int, help="Training budget per generation, in env steps.")
@click.option("--minutes-per-generation", type=float, help="Training budget per generation, in minutes.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML configuration file.")
@db_option
@click.option("--checkpoints", default="checkpoints", show_default=True, type=click.Path(file_okay=False),
              help="Folder for checkpoint files.")
@click.option("--seed", type=int, help="League seed.")
@click.option("--workers", type=int, help="Train teams and play matches in N parallel Ray workers on this machine "
              "(1, the default: in this process, no Ray).")
@click.option("--ray", "ray_address", metavar="ADDRESS",
              help="Run on an existing Ray cluster (`auto`: the one this machine belongs to).")
def train_cmd(game: str | None, game_options: tuple[str, ...], league_name: str, teams: int | None, generations: int | None,
              steps_per_generation: int | None, minutes_per_generation: float | None, config_file: str | None,
              db: str, checkpoints: str, seed: int | None, workers: int | None, ray_address: str | None) -> None:
    """Train a league; rerunning the same command resumes where it stopped.

    Example: league train --game simple_spread --teams 2 --generations 3 --workers 2
    """
    from league.config import LeagueConfig, read_toml
    from league.manager import LeagueManager
    from league.workers import make_workers, require_ray

    if ray_address is not None and not ray_address.strip():
        raise click.BadParameter("must name a Ray cluster (an address, or `auto`), got ''", param_hint="--ray")
    if workers is not None and ray_address:
        raise click.UsageError("give either --workers (a local Ray) or --ray ADDRESS (a cluster), not both")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise click.BadParameter(f"must be between 1 and {MAX_WORKERS}, got {workers}", param_hint="--workers")
    if (workers or 1) > 1 or ray_address:
        require_ray()  # before anything is written

    data = read_toml(config_file) if config_file else {}
    config = LeagueConfig.from_toml(
        data, game=game, name=league_name if league_name != "default" else None, teams=teams,
        generations=generations, steps_per_generation=steps_per_generation,
        minutes_per_generation=minutes_per_generation, seed=seed,
        game_kwargs=parse_game_options(game_options) if game_options else None,
    )
    games.get(config.grpo.game).check(**config.grpo.game_kwargs)  # the game plays, before anything is written

    def on_round(report: Any) -> None:
        g = report.generation
        m = g["metrics"] or {}
        click.echo(f"saved {g['name']}: return {m.get('mean_return', float('nan')):.2f}, "
                   f"{g['train_steps']:,} steps in {report.train_seconds:.1f}s "
                   f"(storage {report.storage_seconds * 1000:.0f} ms)")
        if report.matches:
            scores = ", ".join(f"{x['name_b']} {x['score_a']:g}/{x['seeds']}" for x in report.matches)
            click.echo(f"  matches ({report.match_seconds:.1f}s): {scores}")

    pool, saved = None, "no new"
    try:
        pool = make_workers(workers or 1, ray_address, progress=True)  # Ray is up before anything is written
        if pool.workers > 1 or ray_address:
            click.echo(f"Ray: {pool.workers} CPU(s) for training and matches; this process writes the results.")
        with opened(db, create=True) as store:
            manager = LeagueManager(store, config, checkpoints)
            lg = manager.league
            try:
                rounds = manager.run(on_round=on_round, workers=pool)
            finally:
                saved = sum(t["generations"] for t in store.teams(lg["id"]))
            click.echo(f"league {lg['name']!r}: {rounds} new generation(s); {saved} in total. "
                       f"See `league generations`.")
    except KeyboardInterrupt:
        click.echo(f"Interrupted: {saved} generations are saved; run the same command to continue.", err=True)
        raise SystemExit(130) from None
    finally:
        if pool is not None:
            pool.close()


@cli.command("leagues")
@db_option
@json_option
def leagues_cmd(db: str, as_json: bool) -> None:
    """List the leagues in a database.

    Example: league leagues --json
    """
    with opened(db) as store:
        rows = store.leagues()
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']:<16} {r['game']:<24} teams {r['teams']}  generations {r['generations']}")


@cli.command("teams")
@league_option
@db_option
@json_option
def teams_cmd(league_name: str, db: str, as_json: bool) -> None:
    """List a league's teams.

    Example: league teams --league default
    """
    with opened(db) as store:
        rows = store.teams(store.league(league_name)["id"])
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']:<10} seed {r['seed']:<6} generations {r['generations']}  latest g{r['latest']}")


@cli.command("generations")
@league_option
@click.option("--team", help="Only this team.")
@db_option
@json_option
def generations_cmd(league_name: str, team: str | None, db: str, as_json: bool) -> None:
    """List generations with their training results.

    Example: league generations --team alpha
    """
    with opened(db) as store:
        lg = store.league(league_name)
        if team is not None:
            store.team(lg["id"], team)
        rows = store.generations(lg["id"], team)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        m = r["metrics"] or {}
        ret = f"{m['mean_return']:8.2f}" if "mean_return" in m else "       -"
        click.echo(f"{r['name']:<24} return {ret}  steps {r['train_steps']:>10,}  {r['wall_time']:7.1f}s")


@cli.command("show")
@click.argument("generation")
@league_option
@db_option
@json_option
def show_cmd(generation: str, league_name: str, db: str, as_json: bool) -> None:
    """Show one generation: parent, settings, metrics, checkpoint and its hash check.

    GENERATION is a name like default/alpha/g3, alpha/g3 (in --league), or an id.

    Example: league show default/alpha/g2
    """
    from league.checkpoints import CheckpointError, load_checkpoint

    with opened(db) as store:
        g = store.generation(generation, league_name)
        parent = store.generation(g["parent_id"]) if g["parent_id"] else None
        partners = store.generation_partners(g["id"])
    try:
        load_checkpoint(g["checkpoint"], g["sha256"])
        check = "ok"
    except CheckpointError as e:
        check = f"FAILED: {e}"
    data = {**g, "parent": parent["name"] if parent else None, "trained_with": partners, "checkpoint_check": check}
    if as_json:
        echo_json(data)
        return
    click.echo(f"{g['name']}  (id {g['id']}, created {g['created_at']})")
    click.echo(f"  parent      {data['parent'] or '-'}")
    click.echo(f"  partners    {', '.join(partners) or '- (self-play only)'}")
    click.echo(f"  checkpoint  {g['checkpoint']}")
    click.echo(f"  sha256      {g['sha256']}  [{check}]")
    click.echo(f"  training    {g['train_steps']:,} env steps in {g['wall_time']:.1f}s")
    for key, value in (g["metrics"] or {}).items():
        click.echo(f"  {key:<16} {value}")
    click.echo("  settings    " + json.dumps(g["config"], sort_keys=True))


# ---------------------------------------------------------------- matches and ratings

@cli.command("match")
@click.argument("player_a")
@click.argument("player_b")
@click.option("--seeds", type=click.IntRange(1, 10_000), default=16, show_default=True,
              help="Seeds (episodes per team).")
@click.option("--mixed", is_flag=True, help="Mixed team: both players' agents in one team (cross-play).")
@league_option
@db_option
@json_option
def match_cmd(player_a: str, player_b: str, seeds: int, mixed: bool, league_name: str, db: str,
              as_json: bool) -> None:
    """Play and store a match between two generations or baselines (random, scripted).

    Duplicate (default): both teams play the same seeds; per seed the higher team return wins.

    Example: league match alpha/g2 beta/g2 --seeds 32
    """
    from league.matches import play_match

    with opened(db) as store:
        match = play_match(store, league_for(store, league_name, player_a, player_b), player_a, player_b, seeds, mixed)
    if as_json:
        echo_json(match)
        return
    label = ("A even seats", "B even seats") if mixed else (match["name_a"], match["name_b"])
    click.echo(f"match {match['id']} ({match['kind']}): A = {match['name_a']}, B = {match['name_b']}")
    click.echo(f"{'seed':>12}  {label[0][:22]:>22}  {label[1][:22]:>22}  result")
    for r in match["results"]:
        result = {1.0: "A", 0.5: "draw", 0.0: "B"}.get(r["outcome"], "-")
        click.echo(f"{r['seed']:>12}  {r['return_a']:>22.3f}  {r['return_b']:>22.3f}  {result}")
    if match["score_a"] is not None:
        click.echo(f"score: {match['name_a']} {match['score_a']:g} - {match['seeds'] - match['score_a']:g} "
                   f"{match['name_b']}")
    else:
        ra = sum(r["return_a"] for r in match["results"]) / len(match["results"])
        rb = sum(r["return_b"] for r in match["results"]) / len(match["results"])
        click.echo(f"mean team return: {ra:.3f} (A in even seats), {rb:.3f} (B in even seats)")


@cli.command("ratings")
@league_option
@db_option
@json_option
def ratings_cmd(league_name: str, db: str, as_json: bool) -> None:
    """The leaderboard: Elo by Bradley-Terry fit over all results, with 95% intervals.

    Example: league ratings --league default
    """
    from league.reports import leaderboard

    with opened(db) as store:
        rows = leaderboard(store, store.league(league_name))
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no rated results yet")
    for r in rows:
        click.echo(f"{r['rank']:>3}. {r['player']:<28} {r['elo']:7.0f} +- {r['interval']:<4.0f} "
                   f"games {r['games']:>5}  score {r['score']:5.1f}%")


@cli.command("matches")
@league_option
@click.option("--player", help="Only matches of this player.")
@db_option
@json_option
def matches_cmd(league_name: str, player: str | None, db: str, as_json: bool) -> None:
    """List stored matches, newest first.

    Example: league matches --player default/alpha/g2
    """
    with opened(db) as store:
        league = league_for(store, league_name, player)
        if player and "/" in player:  # a generation: accept team/gN as everywhere else
            player = store.generation(player, league["name"])["name"]
        if player:
            store.player(league["id"], player)  # an unknown player is one error line, not an empty list
        rows = store.matches(league["id"], player=player)
    if as_json:
        echo_json(rows)
        return
    for m in rows:
        score = f"{m['score_a']:g}/{m['seeds']}" if m["score_a"] is not None else "mixed"
        click.echo(f"{m['id']:>5}  {m['kind']:<9} {m['name_a']:<26} vs {m['name_b']:<26} {score}")


@cli.command("crossplay")
@league_option
@db_option
@json_option
def crossplay_cmd(league_name: str, db: str, as_json: bool) -> None:
    """The generation x partner matrix of mean team returns from mixed-team matches, and the stored partner
    scores (`league partners`).

    Example: league crossplay --json
    """
    from league.evaluate import eval_seeds, play, random_policy
    from league.reports import crossplay, crossplay_ratio, partner_table

    with opened(db) as store:
        league = store.league(league_name)
        names, matrix = crossplay(store, league)
        partners = partner_table(store, league)
    cells = [[None if v != v else round(float(v), 3) for v in row] for row in matrix]
    ratio = None
    if names:
        spec = games.get(league["game"])
        info = spec.info(**league["game_kwargs"])
        random_return = float(play(league["game"], random_policy(info, 0), eval_seeds(64), league["game_kwargs"],
                                   reference_env=not spec.has_core(**league["game_kwargs"])).mean())
        ratio = crossplay_ratio(names, matrix, random_return)
    if as_json:
        echo_json({"players": names, "matrix": cells, "crossplay_ratio": ratio, "partners": partners})
        return
    if not names:
        click.echo("no mixed-team matches yet (league match A B --mixed)")
    else:
        width = max(len(n) for n in names)
        click.echo(" " * width + "".join(f"{i:>9}" for i in range(len(names))))
        for i, (name, row) in enumerate(zip(names, cells)):
            click.echo(f"{name:<{width}}" + "".join(f"{'-' if v is None else f'{v:.2f}':>9}" for v in row)
                       + f"  [{i}]")
        if ratio is not None and ratio["ratio"] is not None:
            click.echo(f"cross-play / self-play, players of different teams: {ratio['ratio']:.2f} (cross-play "
                       f"{ratio['cross_play']:.2f}, self-play {ratio['self_play']:.2f}, random {ratio['random']:.2f}; "
                       f"gains over random, {ratio['pairs']} cells)")
    if partners:
        click.echo("\npartner scores (partners never trained with; 1 = scripted, 0 = random with the same partner):")
        for r in partners:
            click.echo(f"  {r['generation']:<24} {r['partner']:<24} {r['kind']:<10} "
                       f"{plus_minus(r['score'], r['score_ci'])}")


def plus_minus(value: float | None, half: float | None, digits: int = 2) -> str:
    """`value +- half`, with '-' for a missing value or interval."""
    if value is None:
        return "-"
    return f"{value:.{digits}f} +- " + ("-" if half is None or half != half else f"{half:.{digits}f}")


@cli.command("partners")
@click.argument("generation")
@click.option("--seeds", type=click.IntRange(min=2, max=10_000), default=32, show_default=True,
              help="Held-out seeds, played with the partner in each seat.")
@click.option("--partner", "only", multiple=True, metavar="NAME",
              help="Only this partner: a style (docs/training.md) or another team's generation; repeatable.")
@click.option("--reference-env", is_flag=True, help="Play in the PettingZoo env itself (slower; the batched "
              "cores are parity-tested against it).")
@league_option
@db_option
@json_option
def partners_cmd(generation: str, seeds: int, only: tuple[str, ...], reference_env: bool, league_name: str, db: str,
                 as_json: bool) -> None:
    """Score a generation with partners it never trained with: people-like styles and other teams' generations.

    A partner takes one seat at a time (every seat in turn) and the generation fills the others. Partner
    score = (R(team + P) - R(random + P)) / (R(scripted + P) - R(random + P)) on held-out seeds: 1.0 plays
    with P as well as the scripted baseline does, 0.0 no better than random. Stored (see `league crossplay`).

    Example: league partners default/alpha/g2 --seeds 32
    """
    from league.partners import partner_summary, score_generation

    with opened(db) as store:
        g, scores = score_generation(store, league_for(store, league_name, generation), generation, seeds, only,
                                     reference_env)
    summary = partner_summary(scores)
    if as_json:
        echo_json({"generation": g["name"], "seeds": seeds, "partners": [s.to_dict() for s in scores],
                   "summary": summary})
        return
    seats = scores[0].seats if scores else []
    click.echo(f"{g['name']} with partners it never trained with: {seeds} held-out seeds x {len(seats)} seats "
               f"({'PettingZoo env' if reference_env else 'batched core'})")
    click.echo(f"  {'partner':<24} {'kind':<10} {'team return':>18}   {'partner score':>16}")
    for s in scores:
        click.echo(f"  {s.partner:<24} {s.kind:<10} {plus_minus(s.team_return, s.team_return_ci):>18}   "
                   f"{plus_minus(s.score, s.score_ci):>16}")
        if len(s.seat_scores) > 1:  # the partner in one seat at a time
            click.echo("    by seat: " + ", ".join(f"{seat} {plus_minus(v, h)}" for seat, (v, h)
                                                 in zip(s.seats, s.seat_scores)))
    if scores and scores[0].scripted_return is None:
        click.echo(f"{g['name'].split('/')[0]}'s game has no scripted plan: no partner scores (score = gain over "
                   f"random / the scripted plan's gain), team returns only")
    for kind, label in (("style", "styles"), ("generation", "generations")):
        mean = summary[kind]
        click.echo(f"{label}: mean partner score {'-' if mean is None else f'{mean:.2f}'} over "
                   f"{summary[kind + '_partners']} partner(s)")


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder for results.csv + ratings.csv, or <league>.json.")
@league_option
@db_option
def export_cmd(fmt: str, out_dir: str, league_name: str, db: str) -> None:
    """Write results and ratings for outside tools.

    Example: league export --format csv --out exports/
    """
    from league.reports import export

    with opened(db) as store:
        paths = export(store, store.league(league_name), fmt, out_dir)
    for path in paths:
        click.echo(f"wrote {path}")


@cli.command("plot")
@click.argument("what", type=click.Choice(["ratings", "learning", "crossplay", "partners"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PNG file to write.")
@league_option
@db_option
def plot_cmd(what: str, out: str, league_name: str, db: str) -> None:
    """Plot Elo by generation, training curves, the cross-play heatmap or the partner scores to a PNG.

    Example: league plot ratings --out ratings.png
    """
    from league.reports import plot

    if Path(out).suffix.lower() != ".png" or not Path(out).stem:
        raise click.BadParameter(f"must name a .png file, got {out!r}", param_hint="--out")
    with opened(db) as store:
        path = plot(store, store.league(league_name), what, out)
    click.echo(f"wrote {path}")


@bench.command("league")
@click.option("--workers", "workers_list", default="1,2", show_default=True,
              help="Comma-separated worker counts; 1 = this process (the reference), more = a local Ray.")
@game_option
@click.option("--teams", type=click.IntRange(min=1, max=8), default=2, show_default=True)
@click.option("--generations", type=click.IntRange(min=1, max=100), default=2, show_default=True)
@click.option("--steps", type=click.IntRange(min=1, max=10**9), default=200_000, show_default=True,
              help="Training env steps per generation.")
@click.option("--matches", type=click.IntRange(min=1, max=10_000), default=24, show_default=True,
              help="Matches timed after the league run.")
@click.option("--seeds", type=click.IntRange(min=1, max=10_000), default=16, show_default=True,
              help="Seeds per match.")
@json_option
def bench_league_cmd(workers_list: str, game: str, game_options: tuple[str, ...], teams: int, generations: int,
                     steps: int, matches: int, seeds: int, as_json: bool) -> None:
    """Generations per hour and matches per second, serial vs Ray workers, side by side.

    Example: league bench league --workers 1,2
    """
    from league.bench import bench_league
    from league.workers import require_ray

    counts = positive_ints(workers_list, "--workers", MAX_WORKERS)
    kwargs = parse_game_options(game_options)
    games.get(game).check(**kwargs)
    if max(counts) > 1:
        require_ray()
    report = bench_league(counts, game, teams, generations, steps, matches, seeds, kwargs)
    if as_json:
        echo_json(report)
        return
    click.echo(f"{game}: {teams} teams x {generations} generations of {steps:,} steps, then {matches} matches "
               f"of {seeds} seeds")
    for row in report["rows"]:
        click.echo(f"  workers {row['workers']} ({row['runner']}): {row['generations_per_hour']:,.0f} "
                   f"generations/h ({row['generations_ratio']:.2f}x), {row['matches_per_s']:.2f} matches/s "
                   f"({row['matches_ratio']:.2f}x); start-up {row['startup_seconds']:.1f}s")


@bench.command("busy")
@config_game_option
@click.option("--seconds", type=FiniteFloat(min=2, max=3600), default=20.0, show_default=True,
              help="Training time on each side.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML file with a [grpo] table.")
@json_option
def bench_busy_cmd(game: str | None, game_options: tuple[str, ...], seconds: float, config_file: str | None,
                   as_json: bool) -> None:
    """Training env steps/s on an idle machine and beside one CPU-bound process, side by side.

    People train while they watch, play or work: the ratio says how much of its speed training keeps.

    Example: league bench busy --game simple_spread --seconds 20
    """
    from league.bench import bench_busy

    config = grpo_config(game, game_options, config_file, None)
    game = config.game
    report = bench_busy(config, seconds)
    if as_json:
        echo_json(report)
        return
    r = report

    def counts(side: str) -> str:
        return ", ".join(f"{n} on {t}" for t, n in r[f"{side}_updates_by_threads"].items())

    click.echo(f"{game}: training {r['idle_steps_per_s']:,.0f} env steps/s idle, {r['loaded_steps_per_s']:,.0f} "
               f"beside one CPU-bound process ({r['ratio']:.2f}x); updates by thread count: idle "
               f"{counts('idle')}, beside it {counts('loaded')}")
    click.echo(f"reference, {r['default_threads']} threads fixed: {r['reference_idle_steps_per_s']:,.0f} idle, "
               f"{r['reference_loaded_steps_per_s']:,.0f} beside it ({r['reference_ratio']:.2f}x); "
               f"idle vs reference {r['idle_vs_reference']:.2f}x")
    click.echo(f"cores training held: {r['idle_cores']:.2f} idle, {r['loaded_cores']:.2f} beside it (reference "
               f"{r['reference_idle_cores']:.2f}, {r['reference_loaded_cores']:.2f})")


@bench.command("ratings")
@click.option("--players", type=click.IntRange(min=2, max=MAX_RATED_PLAYERS), default=1000, show_default=True)
@click.option("--results", type=click.IntRange(min=1, max=10_000_000), default=100_000, show_default=True)
@json_option
def bench_ratings_cmd(players: int, results: int, as_json: bool) -> None:
    """Time the Bradley-Terry fit on synthetic results from known ratings (target: 1,000 x 100,000 < 2 s).

    Also reports how many true ratings fall inside their 95% intervals.

    Example: league bench ratings --players 1000 --results 100000
    """
    from league.bench import bench_ratings

    report = bench_ratings(players, results)
    if as_json:
        echo_json(report)
        return
    click.echo(f"{players:,} players, {results:,} results: fit in {report['fit_seconds']:.2f}s "
               f"(reading the results took {report['read_seconds']:.2f}s; ratio {report['ratio']:.1f}x)")
    click.echo(f"true rating inside its 95% interval for {100 * report['coverage']:.1f}% of players "
               f"(mean interval +-{report['mean_interval']:.0f} Elo)")
