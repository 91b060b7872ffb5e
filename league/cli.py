"""The `league` command: thin click commands that parse options, call one function and print.

Expected failures (unknown game, bad option values, ...) become one `Error: ...` line and exit status 1;
never a traceback.
"""

from __future__ import annotations

import json
from typing import Any

import click

import games


class LeagueGroup(click.Group):
    """Turns the errors our packages raise on bad input into click's one-line `Error: ...` exit."""

    def invoke(self, ctx: click.Context) -> Any:
        from league.store import StoreError

        try:
            return super().invoke(ctx)
        except (games.GameError, ValueError, OSError, StoreError) as e:
            raise click.ClickException(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__) from e


def json_option(f: Any) -> Any:
    """`--json`: machine-readable output for scripts."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def game_option(f: Any) -> Any:
    """`--game NAME`, checked against the registry."""
    return click.option("--game", default="simple_spread", show_default=True, help="Game name (see `league games`).")(f)


def echo_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(cls=LeagueGroup)
@click.version_option(package_name="coop-league")
def cli() -> None:
    """Train leagues of cooperative agent teams with GRPO, rate them, watch and play with them."""


@cli.command("games")
@json_option
def games_cmd(as_json: bool) -> None:
    """List the registered games with agents, roles, spaces and horizon.

    Example: league games --json
    """
    rows = []
    for name in games.names():
        spec = games.get(name)
        info = spec.info()
        rows.append(
            {
                "name": name,
                "summary": spec.summary,
                "agents": list(info.agents),
                "roles": {
                    r: {"agents": list(a), "obs_shape": list(info.obs_shapes[r]), "actions": info.n_actions[r]}
                    for r, a in info.roles.items()
                },
                "horizon": info.horizon,
                "fps": info.fps,
                "batched_core": type(spec.batch(1)).__name__ != "VectorBatch",
            }
        )
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']}  (horizon {row['horizon']}, {row['fps']} fps"
                   f"{', batched core' if row['batched_core'] else ''})")
        click.echo(f"  {row['summary']}")
        for role, r in row["roles"].items():
            click.echo(f"  {role}: {', '.join(r['agents'])}  obs {tuple(r['obs_shape'])}  actions {r['actions']}")


@cli.group()
def bench() -> None:
    """Benchmarks, reported as ratios to a reference measured in the same run."""


@bench.command("env")
@game_option
@click.option("--seconds", type=click.FloatRange(min=0.1), default=2.0, show_default=True, help="Time per measurement.")
@click.option("--batch-sizes", default="1,64,1024,4096", show_default=True, help="Comma-separated batch sizes.")
@json_option
def bench_env_cmd(game: str, seconds: float, batch_sizes: str, as_json: bool) -> None:
    """Environment steps per second: PettingZoo reference loop vs the batched runner.

    An environment step is every agent acting once.

    Example: league bench env --game simple_spread
    """
    from league.bench import bench_env

    games.get(game)
    try:
        sizes = tuple(int(s) for s in batch_sizes.split(","))
    except ValueError:
        raise click.BadParameter(f"not a list of integers: {batch_sizes!r}", param_hint="--batch-sizes") from None
    if not sizes or min(sizes) < 1:
        raise click.BadParameter("batch sizes must be >= 1", param_hint="--batch-sizes")
    result = bench_env(game, sizes, seconds)
    if as_json:
        echo_json(result)
        return
    click.echo(f"{game}: reference PettingZoo loop {result['reference_steps_per_s']:,.0f} env steps/s")
    for row in result["batched"]:
        click.echo(f"  {result['batch_kind']} B={row['num_envs']:>5}: {row['steps_per_s']:>12,.0f} env steps/s"
                   f"  ({row['ratio']:,.1f}x)")
    click.echo(f"best ratio: {result['best_ratio']:,.1f}x")


def grpo_config(game: str, config_file: str | None, seed: int | None) -> Any:
    """GRPOConfig from defaults, then `[grpo]` of the TOML file, then the command-line game and seed."""
    from league.config import GRPOConfig, read_toml

    data = read_toml(config_file).get("grpo", {}) if config_file else {}
    data = {**data, "game": game}
    if seed is not None:
        data["seed"] = seed
    return GRPOConfig.from_dict(data)


@bench.command("learn")
@game_option
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True,
              help="Training time (evaluation excluded).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML file with a [grpo] table.")
@click.option("--seed", type=int, help="Overrides the config's seed.")
@click.option("--eval-every", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Seconds of training between greedy evaluations.")
@click.option("--eval-episodes", type=click.IntRange(min=2), default=200, show_default=True,
              help="Held-out seeds per evaluation.")
@click.option("--out", type=click.Path(dir_okay=False), help="Final checkpoint path "
              "(default checkpoints/bench/<game>.pt).")
@click.option("--stop-at-target", is_flag=True, help="Stop once normalized score 1.0 is reached.")
@json_option
def bench_learn_cmd(game: str, minutes: float, config_file: str | None, seed: int | None, eval_every: float,
                    eval_episodes: int, out: str | None, stop_at_target: bool, as_json: bool) -> None:
    """Train a team from scratch; report time and env steps to normalized score 0.5, 0.8 and 1.0.

    Scores are greedy play on held-out seeds in the PettingZoo env: (R - random) / (scripted - random).

    Example: league bench learn --game simple_spread --minutes 3
    """
    from league.bench import bench_learn

    config = grpo_config(game, config_file, seed)
    out = out or f"checkpoints/bench/{game}.pt"
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
    click.echo(f"  checkpoint: {report['checkpoint']}")
