"""GRPO for a cooperative team, top to bottom: settings -> policy -> grouped rollouts -> advantages -> update.

No critic. Each update plays M start states x G rollouts; the G rollouts of a group share a seed, hence the
start state, so comparing a rollout's team return with its siblings' tells how much better its actions were
than the team's usual play from *that* start. That relative advantage drives a PPO-style clipped update with
a k3 KL penalty to a frozen reference policy (the parent generation in a league).
Long games branch (`branch_every`): each group's rows are made copies of one mid-episode state before every
segment, so siblings are compared from the same state. Partners (`partners`, `partner_share`): some groups give
some seats to a frozen player from the league's population; only the team's own seats are trained.
References: GRPO (DeepSeekMath, arXiv:2402.03300), Dr. GRPO (arXiv:2503.20783), clip-higher (DAPO,
arXiv:2503.14476), k3 KL estimator (http://joschu.net/blog/kl-approx.html).
"""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from tqdm import tqdm

import games
from games.rollout import Policy, per_seat
from games.symmetry import proven_symmetries
from league.config import GRPOConfig
from league.cores import CoreShare, adaptive_allowed
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


def partner_weights(draw: str, returns_with: list[list[float]]) -> np.ndarray | None:
    """Draw weights of the pool `(P,)`: equal ('uniform'), or 1 / rank by the team's mean return with each
    partner so far, worst first ('prioritized'; partners not played yet rank first). None: no pool."""
    if not returns_with:
        return None
    if draw == "uniform":
        return np.ones(len(returns_with))
    means = np.array([np.mean(r) if r else -np.inf for r in returns_with])
    rank = np.argsort(np.argsort(means, kind="stable"), kind="stable")  # 0 = the worst partner
    return 1.0 / (rank + 1)


def draw_partners(M: int, share: float, n: int, count: int, weights: np.ndarray | None,
                  generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Which pool partner each group plays with `(M,)` (-1: self-play) and the seats it fills `(M, n)`: the
    first round(share * M) groups get a partner drawn by `weights`, in `count` seats drawn uniformly."""
    who, mask = np.full(M, -1), np.zeros((M, n), dtype=bool)
    k = round(share * M) if weights is not None else 0
    if k:
        w = torch.as_tensor(weights, dtype=torch.float32, device=generator.device)
        who[:k] = torch.multinomial(w, k, replacement=True, generator=generator).cpu().numpy()
        chosen = torch.rand((k, n), generator=generator, device=generator.device).argsort(-1)[:, :count]
        np.put_along_axis(mask[:k], chosen.cpu().numpy(), True, axis=1)
    return who, mask


def branch_sources(done: np.ndarray, M: int, G: int, generator: torch.Generator) -> np.ndarray:
    """For branching: the row `(B,)` each row of the batch becomes a copy of, one per group, drawn uniformly
    from the group's rows still playing. A group whose rows have all ended takes a row still playing in any
    group instead, so no row of the batch idles until the last group ends (all ended: rows keep their own)."""
    playing = torch.as_tensor(~done, dtype=torch.float32, device=generator.device)  # (B,)
    if not playing.any():
        return np.arange(M * G)
    weights = torch.eye(M, device=generator.device).repeat_interleave(G, dim=1) * playing  # (M, B) own rows
    ended = weights.sum(-1) == 0
    weights[ended] = playing
    pick = torch.multinomial(weights, 1, generator=generator).squeeze(-1).cpu().numpy()  # (M,) rows
    return np.repeat(pick, G)


def reward_to_go(rewards: torch.Tensor, gamma: float) -> torch.Tensor:
    """rewards `(T, B)` -> discounted sums of the rewards from each step on, `(T, B)`."""
    out = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


@dataclass
class GroupPartners:
    """Who plays with whom in the current batch of episodes: drawn once per batch of start states, the same for
    all G rows of a group (and kept across the segments of a branched episode)."""

    who: np.ndarray
    """`(M,)` index of the pool partner each group plays with; -1: self-play."""
    partner_seat: np.ndarray
    """`(B, n)` the seats a partner plays in each row."""
    rows: list[tuple[str, np.ndarray]]
    """(partner name, the rows it plays in), for each partner drawn."""
    own_seat: torch.Tensor
    """`(B, n)` the seats the team plays, and trains."""


def group_partners(cfg: GRPOConfig, pool: list[str], returns_with: list[list[float]], M: int, G: int, n: int,
                   generator: torch.Generator) -> GroupPartners:
    """Draws the partners of a new batch of episodes: the first groups play with one (see `draw_partners`)."""
    who, chosen = draw_partners(M, cfg.partner_share, n, cfg.partner_seats,
                               partner_weights(cfg.partner_draw, returns_with), generator)  # (M,), (M, n)
    who_row, partner_seat = np.repeat(who, G), np.repeat(chosen, G, axis=0)  # (B,), (B, n)
    rows = [(pool[k], np.flatnonzero(who_row == k)) for k in np.unique(who[who >= 0])]
    return GroupPartners(who, partner_seat, rows, torch.as_tensor(~partner_seat, device=generator.device))


@dataclass
class View:
    """What each seat of each row sees (Other-Play): the game itself, or the game through the symmetry its group
    drew. The team and its partners act on what they see; the game gets their actions mapped back."""

    obs_index: np.ndarray
    """`(B, n, D)` gather index: the seen observation is `obs[..., obs_index]`."""
    to_game: np.ndarray
    """`(B, n, A)`: a seat's action a in what it sees is action `to_game[b, i, a]` in the game."""

    def see(self, obs: np.ndarray) -> np.ndarray:
        return np.take_along_axis(obs, self.obs_index, axis=-1)  # (B, n, D)

    def act(self, actions: np.ndarray) -> np.ndarray:
        return np.take_along_axis(self.to_game, actions[..., None], axis=-1)[..., 0]  # (B, n)


def view_tables(symmetries: list[Any], roles: list[str], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Every symmetry's maps for a batch's seats, made once per run: observation gather index `(S, n, D)` and
    seen action -> game action `(S, n, A)` (identity past a role's own actions)."""
    A = max(len(a) for a in symmetries[0].actions.values())
    obs_tables = np.stack([s.table(roles, width) for s in symmetries])  # (S, n, D)
    to_game = np.tile(np.arange(A), (len(symmetries), len(roles), 1))  # (S, n, A)
    for k, s in enumerate(symmetries):
        for i, role in enumerate(roles):
            forward = s.actions[role]  # game action -> relabelled action
            to_game[k, i, forward] = np.arange(len(forward))
    return obs_tables, to_game


def relabelled_view(tables: tuple[np.ndarray, np.ndarray], grouped: GroupPartners, G: int,
                    generator: torch.Generator) -> View:
    """Other-Play's draw for a new batch of episodes: each group one symmetry (uniform, the identity included)
    and the seats that see through it: a partnered group's partner seats, else every seat but one drawn.
    `tables`: `view_tables`."""
    obs_tables, to_game = tables
    (S, n, _), M = obs_tables.shape, len(grouped.who)
    drawn = torch.randint(S, (M,), generator=generator, device=generator.device).cpu().numpy()
    anchor = torch.randint(n, (M,), generator=generator, device=generator.device).cpu().numpy()  # (M,)
    relabelled = np.arange(n)[None, :] != anchor[:, None]  # (M, n) self-play: all but the anchor
    partnered = grouped.who >= 0
    relabelled[partnered] = grouped.partner_seat[::G][partnered]
    chosen = np.where(relabelled, drawn[:, None], 0)  # (M, n) symmetry 0 is the identity
    rows = np.repeat(chosen, G, axis=0)  # (B, n)
    seat = np.arange(n)[None, :]
    return View(obs_tables[rows, seat], to_game[rows, seat])


@dataclass
class Rollouts:
    """One pass's rollout buffers, allocated once for the longest pass (H steps) and reused; a pass of S steps
    uses the first S of them, zeroed first. Shapes below are for the allocation; a pass's view has S for H."""

    obs: torch.Tensor  # (H, B, n, D) what each seat saw
    actions: torch.Tensor  # (H, B, n) what each seat did, in what it saw; Box actions (H, B, n, A) numbers as drawn
    old_logp: torch.Tensor  # (H, B, n) the sampling policy's log-prob of it
    alive: torch.Tensor  # (H, B, n) the agent acts at step t (a turn-based game: only the agent to move)
    team_reward: torch.Tensor  # (H, B)

    @classmethod
    def allocate(cls, H: int, B: int, n: int, D: int, device: torch.device, numbers: int = 0) -> Rollouts:
        """`numbers`: the width of a Box action (0: discrete actions)."""
        actions = torch.zeros((H, B, n, numbers), device=device) if numbers else \
            torch.zeros((H, B, n), dtype=torch.long, device=device)
        return cls(torch.zeros((H, B, n, D), device=device), actions,
                   torch.zeros((H, B, n), device=device), torch.zeros((H, B, n), dtype=torch.bool, device=device),
                   torch.zeros((H, B), device=device))

    def first(self, steps: int) -> Rollouts:
        """The first `steps` of every buffer, zeroed: a pass's view."""
        view = Rollouts(self.obs[:steps], self.actions[:steps], self.old_logp[:steps], self.alive[:steps],
                        self.team_reward[:steps])
        for buffer in (view.obs, view.actions, view.old_logp, view.alive, view.team_reward):
            buffer.zero_()
        return view


@dataclass
class BranchedReturns:
    """Branching's bookkeeping (metrics only, never the update): a path from a start state runs through several
    segments, copied from row to row, so its return is the sum of its segments' returns. `trunk` `(M,)` holds
    each group's path so far (nan: a copy of a path counted in its own group), from the batch's start states;
    `finished` the returns of the last M paths that ended, in this batch or earlier ones."""

    trunk: np.ndarray
    finished: list[float] = field(default_factory=list)

    def new_starts(self) -> None:
        """A new batch of episodes: every group's path starts again."""
        self.trunk = np.zeros(len(self.trunk))

    def add_segment(self, segment: np.ndarray, over: np.ndarray, source: np.ndarray, G: int) -> None:
        """`segment` `(B,)` returns of this segment, `over` `(M,)` the groups whose path ended, `source` `(B,)`
        the row each row goes on from."""
        M = len(self.trunk)
        self.finished += [float(x) for x in self.trunk[over] + segment.reshape(M, G)[over].mean(-1) if x == x]
        follow = source[::G] // G  # (M,) the group each group goes on from: itself unless it ended
        # A path copied into an ended group is counted once, where it goes on in its own group (nan: a copy).
        self.trunk = np.where(follow == np.arange(M), self.trunk[follow] + segment[source[::G]], np.nan)
        self.finished = self.finished[-M:]

    @property
    def mean(self) -> float:
        return float(np.mean(self.finished)) if self.finished else float("nan")


@dataclass
class Episodes:
    """The batch of episodes being played: everything one pass leaves to the next. A batch starts when every
    row has ended or the horizon is reached; with branching it goes on over several passes (segments)."""

    obs: np.ndarray
    """`(B, n, D)` the game's current observations."""
    done: np.ndarray
    """`(B,)` rows whose episode has ended."""
    partners: GroupPartners
    """Who plays with whom, drawn when the batch started."""
    view: View | None
    """Other-Play: what each seat sees, drawn with the partners; None: the game itself."""
    clock: int = 0
    """Steps played since the batch started."""
    source: np.ndarray | None = None
    """Branching: the row `(B,)` each row becomes a copy of before the next segment."""

    def over(self, horizon: int) -> bool:
        return bool(self.done.all()) or self.clock >= horizon


def start_episodes(cfg: GRPOConfig, batch: Any, seeds: np.ndarray, pool: list[str], returns_with: list[list[float]],
                   tables: tuple[np.ndarray, np.ndarray] | None, M: int, G: int, n: int,
                   generator: torch.Generator) -> Episodes:
    """A new batch of episodes: rows reset to their group's start `seeds` `(B,)`, partners drawn, then (Other-Play)
    the symmetries the groups see the game through."""
    obs = batch.reset(seeds)
    grouped = group_partners(cfg, pool, returns_with, M, G, n, generator)
    view = relabelled_view(tables, grouped, G, generator) if tables is not None else None
    return Episodes(obs, np.zeros(len(seeds), dtype=bool), grouped, view)


def play_segment(batch: Any, episodes: Episodes, policy: TeamPolicy, roll: Rollouts, partners: dict[str, Policy],
                 info: Any, team_reward: Callable[[np.ndarray], np.ndarray], generator: torch.Generator) -> None:
    """Plays the buffers' S steps (or until every row has ended) from where `episodes` stands, filling `roll`:
    the team samples every seat, partners overwrite their seats' actions, the game gets them through the view."""
    device, grouped, view = roll.obs.device, episodes.partners, episodes.view
    obs, done = episodes.obs, episodes.done
    for t in range(roll.obs.shape[0]):
        if done.all():
            break
        seen = obs if view is None else view.see(obs)  # (B, n, D) what each seat sees
        roll.obs[t] = torch.as_tensor(seen, device=device)
        roll.alive[t] = torch.as_tensor(batch.alive & ~done[:, None], device=device)
        roll.actions[t], roll.old_logp[t] = policy.sample(roll.obs[t], generator)
        act = roll.actions[t].cpu().numpy()  # (B, n) in what each seat sees; Box actions (B, n, A)
        for name, rows in grouped.rows:  # partners take their seats' actions
            theirs = per_seat(grouped.partner_seat[rows], act[rows])
            act[rows] = np.where(theirs, partners[name](seen[rows], info), act[rows])
        roll.actions[t] = torch.as_tensor(act, device=device)
        obs, rewards, now_done = batch.step(act if view is None else view.act(act))
        roll.team_reward[t] = torch.as_tensor(np.where(done, 0.0, team_reward(rewards)), device=device)
        done = now_done
    episodes.obs, episodes.done = obs, done
    episodes.clock += roll.obs.shape[0]


def advantages(cfg: GRPOConfig, roll: Rollouts, running: torch.Tensor, M: int, G: int) -> torch.Tensor:
    """Each team-step's advantage `(S, B)`: the rollout's team return against its group's ('episode'), or each
    step's reward-to-go against the group's at that step ('step'). `running` `(S, B)`: the game still plays."""
    S, B = running.shape
    if cfg.advantage == "episode":
        returns = roll.team_reward.sum(0)  # (B,)
        adv = group_advantages(returns.view(1, M, G), running[:1].view(1, M, G), cfg.scale_by_std, cfg.eps)
        return adv.view(1, B).expand(S, B)
    to_go = reward_to_go(roll.team_reward, cfg.gamma)  # (S, B)
    return group_advantages(to_go.view(S, M, G), running.view(S, M, G), cfg.scale_by_std, cfg.eps).view(S, B)


def update(cfg: GRPOConfig, policy: TeamPolicy, reference: TeamPolicy, optimizer: torch.optim.Optimizer,
           roll: Rollouts, adv: torch.Tensor, running: torch.Tensor, own_seat: torch.Tensor,
           generator: torch.Generator) -> dict[str, float]:
    """The PPO-style clipped update with a k3 KL penalty to the reference, over the team-steps that happened
    (`running` `(S, B)`), trained on the seats that acted and are the team's own (`own_seat` `(B, n)`: partner
    seats get no gradient). Returns the mean KL, clip fraction and entropy over the trained seats."""
    n = roll.alive.shape[-1]
    rows = running.flatten().nonzero().squeeze(-1)  # team-steps that happened
    flat_obs, flat_act = roll.obs.flatten(0, 1)[rows], roll.actions.flatten(0, 1)[rows]  # (R, n, D), (R, n[, A])
    trained = roll.alive & own_seat  # (S, B, n)
    flat_old, flat_mask = roll.old_logp.flatten(0, 1)[rows], trained.flatten(0, 1)[rows].float()  # (R, n)
    flat_adv = adv.flatten()[rows].unsqueeze(-1).expand(-1, n)  # (R, n) the team's advantage, every seat
    # (R, n); a CNN's activations for a whole update would not fit in memory: its reference pass goes by minibatch
    chunk = max(1, cfg.minibatch_size // n) if policy.args.get("images") else max(1, len(rows))
    with torch.no_grad():
        ref_logp = torch.cat([reference.evaluate(o, a)[0] for o, a in zip(flat_obs.split(chunk),
                                                                          flat_act.split(chunk))])
    low, high = 1 - cfg.clip_low, 1 + cfg.clip_high
    stats: dict[str, list[float]] = {"kl": [], "clip_frac": [], "entropy": []}
    for _ in range(cfg.epochs):
        order = torch.randperm(len(rows), generator=generator, device=rows.device)
        for mb in order.split(max(1, cfg.minibatch_size // n)):
            logp, entropy = policy.evaluate(flat_obs[mb], flat_act[mb])  # (b, n) each
            mask, a = flat_mask[mb], flat_adv[mb]
            ratio = (logp - flat_old[mb]).exp()
            pg = -torch.min(ratio * a, ratio.clamp(low, high) * a)
            log_ref_ratio = ref_logp[mb] - logp
            kl = log_ref_ratio.exp() - log_ref_ratio - 1  # k3 estimate of KL(pi || pi_ref), >= 0
            per_agent = pg + cfg.kl_coef * kl - cfg.entropy_coef * entropy
            denom = mask.sum().clamp(min=1)
            loss = (per_agent * mask).sum() / denom
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                stats["kl"].append(float((kl * mask).sum() / denom))
                stats["clip_frac"].append(float((((ratio < low) | (ratio > high)).float() * mask).sum() / denom))
                stats["entropy"].append(float((entropy * mask).sum() / denom))
    return {key: float(np.mean(values)) for key, values in stats.items()}


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
    partners: dict[str, Policy] | None = None,
) -> TrainResult:
    """Trains until `max_env_steps` env steps or `max_seconds` (at least one update), or `on_iteration`
    returns True. `policy` continues from given weights (else a fresh one); `reference` is the frozen KL
    anchor (else a frozen copy of the starting policy). `seed_offset` picks a disjoint stretch of start seeds
    (the league gives each generation its own). `score_baselines` = (random, scripted) team returns for the
    normalized-score metric; `label` names the progress bar. `partners`: the population (name -> greedy play)
    that `cfg.partner_share` of the groups play with, in `cfg.partner_seats` seats; empty or None = self-play.
    torch's thread count is put back as it was found."""
    # ---------------------------------------------------------------- settings (plumbing)
    cfg = config.validate()
    device = resolve_device(cfg.device)
    threads_before = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    cores = CoreShare() if not cfg.threads and adaptive_allowed(device) else None  # threads follow the machine
    spec = games.get(cfg.game)
    info = spec.info(**cfg.game_kwargs)
    M, G, T, n = cfg.groups, cfg.group_size, info.horizon, len(info.agents)
    B = M * G
    H = cfg.branch_every or T  # steps per update: a segment, or the whole episode
    first_seed = first_train_seed(cfg.seed, seed_offset)
    generator = torch.Generator(device=device).manual_seed(first_seed)
    partners = partners or {}
    pool = sorted(partners) if cfg.partner_share > 0 else []  # names, in a fixed order
    returns_with: list[list[float]] = [[] for _ in pool]  # team returns of the groups with each partner
    batch = spec.batch(B, **cfg.game_kwargs)
    # Other-Play once there is a partner whose code is fixed: from scratch, with only copies of itself, a team that
    # sees relabelled games stalls before it finds any code (docs/training.md, "Words a person can guess").
    symmetries = proven_symmetries(spec, **cfg.game_kwargs) if cfg.other_play and pool else []  # identity first
    tables = view_tables(symmetries, [info.role_of(a) for a in info.agents], batch.obs_dim) if symmetries else None
    bar = tqdm(total=max_env_steps, desc=label or cfg.game, unit="step", unit_scale=True, disable=not progress,
               dynamic_ncols=True)
    try:
        # ------------------------------------------------------------ policy, reference, optimizer
        policy = (policy if policy is not None else new_policy(cfg)).to(device)
        reference = copy.deepcopy(reference if reference is not None else policy).to(device).eval()
        reference.requires_grad_(False)
        optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.lr, eps=1e-5)
        if optimizer_state:
            optimizer.load_state_dict(optimizer_state)
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr  # the stored state carries the parent's rate; this run's config wins
        result = TrainResult(policy, {})
        buffers = Rollouts.allocate(H, B, n, batch.obs_dim, device, max(info.n_actions.values()) * info.continuous)
        episodes: Episodes | None = None
        started = 0  # batches of episodes started
        branched = BranchedReturns(np.zeros(M)) if cfg.branch_every else None
        start = time.perf_counter()
        for iteration in itertools.count():
            tick = time.perf_counter()
            if cores is not None:  # one thread while other programs hold a core: same floats, no barrier to wait on
                torch.set_num_threads(cores.pick())
            # -------------------------------------------------------- grouped rollouts
            # Group m plays one state G times: rows m*G .. m*G+G-1 of the batch. The state is the start of seed
            # s_m, or, when branching, the state one of the group's rows reached (all G rows become copies of it).
            if episodes is None or episodes.over(T):
                seeds = np.repeat(np.arange(first_seed + started * M, first_seed + (started + 1) * M), G)  # (B,)
                episodes = start_episodes(cfg, batch, seeds, pool, returns_with, tables, M, G, n, generator)
                started += 1
                if branched is not None:
                    branched.new_starts()
            else:  # branching: `source` was drawn at the end of the last segment
                batch.clone_rows(episodes.source)
                episodes.obs, episodes.done = episodes.obs[episodes.source], episodes.done[episodes.source]
            steps = min(H, T - episodes.clock)  # S
            roll = buffers.first(steps)
            play_segment(batch, episodes, policy, roll, partners, info, spec.team_reward, generator)
            running = roll.alive.any(-1)  # (S, B) the game still playing at step t
            returns = roll.team_reward.sum(0)  # (B,) team return of each rollout (of its segment, when branching)
            if branched is not None:  # each group's path goes on with the row it is copied from next
                episodes.source = branch_sources(episodes.done, M, G, generator)  # (B,)
                over = episodes.done.reshape(M, G).all(-1) | (episodes.clock >= T)  # (M,) groups whose path ended
                branched.add_segment(returns.cpu().numpy(), over, episodes.source, G)

            # -------------------------------------------------------- advantages
            adv = advantages(cfg, roll, running, M, G)  # (S, B)
            group_returns = returns.view(M, G).mean(-1).cpu().numpy()  # (M,)
            for m in np.flatnonzero(episodes.partners.who >= 0):
                returns_with[episodes.partners.who[m]].append(float(group_returns[m]))

            # -------------------------------------------------------- clipped update with KL to the reference
            if cfg.lr_half_life:
                for group in optimizer.param_groups:
                    group["lr"] = cfg.lr * 0.5 ** (iteration / cfg.lr_half_life)
            stats = update(cfg, policy, reference, optimizer, roll, adv, running, episodes.partners.own_seat,
                           generator)

            # -------------------------------------------------------- metrics (plumbing)
            env_steps = int(running.sum())
            result.env_steps += env_steps
            mean_return = branched.mean if branched is not None else float(returns.mean())
            metrics = {
                "iteration": iteration,
                "env_steps": result.env_steps,
                "mean_return": mean_return,
                "score": normalized_score(mean_return, score_baselines),
                **stats,
                "zero_var_groups": float((returns.view(M, G).std(-1) < 1e-8).float().mean()),
                "steps_per_s": env_steps / (time.perf_counter() - tick),
                "seconds": time.perf_counter() - start,
            }
            if pool:
                metrics.update(partner_metrics(returns, episodes.partners.who, G))
            result.metrics.append(metrics)
            bar.update(env_steps)
            bar.set_postfix(it=iteration, ret=f"{mean_return:.2f}", kl=f"{metrics['kl']:.3f}",
                            sps=f"{metrics['steps_per_s']:,.0f}")
            if on_iteration is not None and on_iteration(metrics):
                break
            if max_env_steps is not None and result.env_steps >= max_env_steps:
                break
            if max_seconds is not None and time.perf_counter() - start >= max_seconds:
                break
            if max_env_steps is None and max_seconds is None and on_iteration is None:
                break
    finally:
        bar.close()
        batch.close()
        torch.set_num_threads(threads_before)
    result.seconds = time.perf_counter() - start
    result.optimizer_state = optimizer.state_dict()
    return result


def partner_metrics(returns: torch.Tensor, who: np.ndarray, G: int) -> dict[str, float]:
    """Mean team return `returns` `(B,)` of the groups that played with a partner and of those that did not
    (`who` `(M,)`: -1 self-play); nan where there were none."""
    with_partner = torch.as_tensor(np.repeat(who, G) >= 0, device=returns.device)
    return {"partner_return": float(returns[with_partner].mean()) if with_partner.any() else float("nan"),
            "self_return": float(returns[~with_partner].mean()) if (~with_partner).any() else float("nan")}


def normalized_score(team_return: float, baselines: tuple[float, float] | None) -> float | None:
    """(R - R_random) / (R_scripted - R_random): 0 = random play, 1 = the game's scripted baseline."""
    if baselines is None:
        return None
    random_return, scripted_return = baselines
    return (team_return - random_return) / (scripted_return - random_return)
