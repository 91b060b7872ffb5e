"""GRPO for a cooperative team, top to bottom: settings -> policy -> grouped rollouts -> advantages -> update.

No critic. Each update plays M start states x G rollouts; the G rollouts of a group share a seed, hence the
start state, so comparing a rollout's team return with its siblings' tells how much better its actions were
than the team's usual play from *that* start. That relative advantage drives a PPO-style clipped update with
a k3 KL penalty to a frozen reference policy (the parent generation in a league).
References: GRPO (DeepSeekMath, arXiv:2402.03300), Dr. GRPO (arXiv:2503.20783), clip-higher (DAPO,
arXiv:2503.14476), k3 KL estimator (http://joschu.net/blog/kl-approx.html).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from tqdm import tqdm

import games
from league.config import GRPOConfig
from league.policy import TeamPolicy


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present; asking for CUDA without it is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch sees no CUDA device")
    return torch.device(name)


def group_advantages(values: torch.Tensor, running: torch.Tensor, scale_by_std: bool, eps: float) -> torch.Tensor:
    """Group-relative advantages. values, running: `(T, M, G)`; statistics over the G members of each group
    that are still `running` at that step; entries not running get 0, as does a member with no sibling.

    The episode form is T=1 with the team returns; the step form passes each step's reward-to-go.
    """
    w = running.to(values.dtype)
    count = w.sum(-1, keepdim=True)  # (T, M, 1)
    mean = (values * w).sum(-1, keepdim=True) / count.clamp(min=1)
    centered = (values - mean) * w
    if scale_by_std:
        std = ((centered**2).sum(-1, keepdim=True) / count.clamp(min=1)).sqrt()
        centered = centered / (std + eps)
    return torch.where(count > 1, centered, torch.zeros_like(centered))


def new_policy(cfg: GRPOConfig) -> TeamPolicy:
    """An untrained team (a lineage's generation 0), its weights drawn from `cfg.seed`."""
    torch.manual_seed(cfg.seed)
    info = games.get(cfg.game).info(**cfg.game_kwargs)
    return TeamPolicy.for_game(info, cfg.hidden, cfg.layers, cfg.architecture == "auto", cfg.steer_hidden)


def first_train_seed(seed: int, offset: int) -> int:
    """Where a run's start seeds begin: mixed by SeedSequence so teams and generations draw different
    stretches, and below 2**29 so training never plays the held-out evaluation seeds (2**30 and up)."""
    return int(np.random.SeedSequence([seed, offset]).generate_state(1)[0]) % 2**29


def reward_to_go(rewards: torch.Tensor, gamma: float) -> torch.Tensor:
    """rewards `(T, B)` -> discounted sums of the rewards from each step on, `(T, B)`."""
    out = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


@dataclass
class TrainResult:
    """What one call of `train` produced."""

    policy: TeamPolicy
    optimizer_state: dict[str, Any]
    metrics: list[dict[str, float]] = field(default_factory=list)
    env_steps: int = 0
    seconds: float = 0.0


def train(
    config: GRPOConfig,
    *,
    max_env_steps: int | None = None,
    max_seconds: float | None = None,
    policy: TeamPolicy | None = None,
    reference: TeamPolicy | None = None,
    optimizer_state: dict[str, Any] | None = None,
    seed_offset: int = 0,
    on_iteration: Callable[[dict[str, float]], bool | None] | None = None,
    progress: bool = False,
    label: str = "",
    score_baselines: tuple[float, float] | None = None,
) -> TrainResult:
    """Trains until `max_env_steps` env steps or `max_seconds` (at least one update), or `on_iteration`
    returns True. `policy` continues from given weights (else a fresh one); `reference` is the frozen KL
    anchor (else a frozen copy of the starting policy). `seed_offset` picks a disjoint stretch of start seeds
    (the league gives each generation its own). `score_baselines` = (random, scripted) team returns for the
    normalized-score metric; `label` names the progress bar."""
    # ---------------------------------------------------------------- settings (plumbing)
    cfg = config.validate()
    device = resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    spec = games.get(cfg.game)
    info = spec.info(**cfg.game_kwargs)
    M, G, T, n = cfg.groups, cfg.group_size, info.horizon, len(info.agents)
    B = M * G
    batch = spec.batch(B, **cfg.game_kwargs)
    generator = torch.Generator(device=device).manual_seed(first_train_seed(cfg.seed, seed_offset))

    # ---------------------------------------------------------------- policy, reference, optimizer
    policy = (policy if policy is not None else new_policy(cfg)).to(device)
    reference = copy.deepcopy(reference if reference is not None else policy).to(device).eval()
    reference.requires_grad_(False)
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.lr, eps=1e-5)
    if optimizer_state:
        optimizer.load_state_dict(optimizer_state)
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr  # the stored state carries the parent's rate; this run's config wins

    result = TrainResult(policy, {})
    bar = tqdm(total=max_env_steps, desc=label or cfg.game, unit="step", unit_scale=True, disable=not progress,
               dynamic_ncols=True)
    start = time.perf_counter()
    iteration = 0
    while True:
        tick = time.perf_counter()
        # ------------------------------------------------------------ grouped rollouts
        # Group m plays seed s_m G times: rows m*G .. m*G+G-1 of the batch.
        first_seed = first_train_seed(cfg.seed, seed_offset) + iteration * M
        seeds = np.repeat(np.arange(first_seed, first_seed + M), G)  # (B,)
        obs_np = batch.reset(seeds)
        obs = torch.zeros((T, B, n, batch.obs_dim), device=device)  # (T, B, n, D)
        actions = torch.zeros((T, B, n), dtype=torch.long, device=device)
        old_logp = torch.zeros((T, B, n), device=device)
        alive = torch.zeros((T, B, n), dtype=torch.bool, device=device)  # agent acts at step t
        team_reward = torch.zeros((T, B), device=device)
        done = np.zeros(B, dtype=bool)
        for t in range(T):
            if done.all():
                break
            obs[t] = torch.as_tensor(obs_np, device=device)
            alive[t] = torch.as_tensor(batch.alive & ~done[:, None], device=device)
            actions[t], old_logp[t] = policy.sample(obs[t], generator)
            obs_np, rewards, now_done = batch.step(actions[t].cpu().numpy())
            team_reward[t] = torch.as_tensor(np.where(done, 0.0, spec.team_reward(rewards)), device=device)
            done = now_done
        running = alive.any(-1)  # (T, B) env still playing at step t
        env_steps = int(running.sum())
        returns = team_reward.sum(0)  # (B,) team return of each rollout

        # ------------------------------------------------------------ advantages
        if cfg.advantage == "episode":
            adv = group_advantages(returns.view(1, M, G), running[:1].view(1, M, G), cfg.scale_by_std, cfg.eps)
            adv = adv.view(1, B).expand(T, B)
        else:
            to_go = reward_to_go(team_reward, cfg.gamma)  # (T, B)
            adv = group_advantages(to_go.view(T, M, G), running.view(T, M, G), cfg.scale_by_std, cfg.eps).view(T, B)
        zero_var = float((returns.view(M, G).std(-1) < 1e-8).float().mean())

        # ------------------------------------------------------------ clipped update with KL to the reference
        if cfg.lr_half_life:
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr * 0.5 ** (iteration / cfg.lr_half_life)
        rows = running.flatten().nonzero().squeeze(-1)  # team-steps that happened
        flat_obs, flat_act = obs.flatten(0, 1)[rows], actions.flatten(0, 1)[rows]  # (R, n, D), (R, n)
        flat_old, flat_mask = old_logp.flatten(0, 1)[rows], alive.flatten(0, 1)[rows].float()  # (R, n)
        flat_adv = adv.flatten()[rows].unsqueeze(-1).expand(-1, n)  # (R, n) the team's advantage, every seat
        with torch.no_grad():
            ref_logp = torch.log_softmax(reference(flat_obs), -1).gather(-1, flat_act.unsqueeze(-1)).squeeze(-1)
        rows_per_batch = max(1, cfg.minibatch_size // n)
        stats = {"kl": [], "clip_frac": [], "entropy": []}
        for _ in range(cfg.epochs):
            order = torch.randperm(len(rows), generator=generator, device=device)
            for mb in order.split(rows_per_batch):
                logp_all = torch.log_softmax(policy(flat_obs[mb]), -1)  # (b, n, A)
                logp = logp_all.gather(-1, flat_act[mb].unsqueeze(-1)).squeeze(-1)  # (b, n)
                mask, a = flat_mask[mb], flat_adv[mb]
                ratio = (logp - flat_old[mb]).exp()
                low, high = 1 - cfg.clip_low, 1 + cfg.clip_high
                pg = -torch.min(ratio * a, ratio.clamp(low, high) * a)
                log_ref_ratio = ref_logp[mb] - logp
                kl = log_ref_ratio.exp() - log_ref_ratio - 1  # k3 estimate of KL(pi || pi_ref), >= 0
                entropy = -(logp_all.exp() * logp_all).sum(-1)
                per_agent = pg + cfg.kl_coef * kl - cfg.entropy_coef * entropy
                loss = (per_agent * mask).sum() / mask.sum().clamp(min=1)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
                optimizer.step()
                with torch.no_grad():
                    denom = mask.sum().clamp(min=1)
                    stats["kl"].append(float((kl * mask).sum() / denom))
                    stats["clip_frac"].append(float((((ratio < low) | (ratio > high)).float() * mask).sum() / denom))
                    stats["entropy"].append(float((entropy * mask).sum() / denom))

        # ------------------------------------------------------------ metrics (plumbing)
        elapsed = time.perf_counter() - tick
        result.env_steps += env_steps
        mean_return = float(returns.mean())
        metrics = {
            "iteration": iteration,
            "env_steps": result.env_steps,
            "mean_return": mean_return,
            "score": normalized_score(mean_return, score_baselines),
            "kl": float(np.mean(stats["kl"])),
            "clip_frac": float(np.mean(stats["clip_frac"])),
            "entropy": float(np.mean(stats["entropy"])),
            "zero_var_groups": zero_var,
            "steps_per_s": env_steps / elapsed,
            "seconds": time.perf_counter() - start,
        }
        result.metrics.append(metrics)
        bar.update(env_steps)
        bar.set_postfix(it=iteration, ret=f"{mean_return:.2f}", kl=f"{metrics['kl']:.3f}", sps=f"{metrics['steps_per_s']:,.0f}")
        iteration += 1
        stop = on_iteration(metrics) if on_iteration else False
        if stop or (max_env_steps is not None and result.env_steps >= max_env_steps):
            break
        if max_seconds is not None and time.perf_counter() - start >= max_seconds:
            break
        if max_env_steps is None and max_seconds is None and on_iteration is None:
            break
    bar.close()
    batch.close()
    result.seconds = time.perf_counter() - start
    result.optimizer_state = optimizer.state_dict()
    return result


def normalized_score(team_return: float, baselines: tuple[float, float] | None) -> float | None:
    """(R - R_random) / (R_scripted - R_random): 0 = random play, 1 = the game's scripted baseline."""
    if baselines is None:
        return None
    random_return, scripted_return = baselines
    return (team_return - random_return) / (scripted_return - random_return)
