"""The team policy: one network per role, shared by that role's agents, told apart by an agent-id one-hot.

A role's network is a plain MLP, or, where the game lists places to head for in the observation
(`games.spec.Targets`, e.g. simple_spread's landmarks), a `ChooseAndSteer` mixture: one net picks a target,
a small shared net steers toward it. A plain MLP must compute "which landmark is mine" and then select that
landmark's coordinates (a product of a discrete choice and a position, which MLPs fit poorly); the mixture
makes that selection part of the architecture and leaves both the choice and the steering to be learned.

Works on the batched arrays of `games` (`(B, n_agents, obs_dim)`, roles with shorter observations 0-padded) and,
through `act`, on PettingZoo's dict of observations, so a trained team plays in any script that makes the env.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from games.spec import role_of
from games.vector import batchify

# Logit for action slots a role does not have (roles with fewer actions are padded to the widest role).
MISSING_ACTION = -1e9


def mlp(inputs: int, hidden: int, layers: int, outputs: int, activation: type[nn.Module] = nn.Tanh) -> nn.Sequential:
    """MLP; the last layer starts small so the untrained policy is close to uniform (generation 0)."""
    dims = [inputs] + [hidden] * layers
    blocks: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        blocks += [nn.Linear(a, b), activation()]
    head = nn.Linear(dims[-1], outputs)
    nn.init.orthogonal_(head.weight, gain=0.01)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*blocks, head)


class ChooseAndSteer(nn.Module):
    """pi(a | o) = sum_k p(k | o) * steer(a | own velocity, teammates, target_k): a mixture over the K
    targets listed in the observation. `choose` scores the targets from the whole observation, the agent id
    and every distance between a target and an agent (self and teammates: who is closer to what is the crux
    of sharing targets out, and an MLP computes distances from coordinates poorly). `steer` is one small net
    shared by all targets, so what it learns about braking (and teammates in the way) on one holds for all.
    Both are learned from the game's reward; nothing is scripted. Sampling draws from the mixture itself, so
    exploring also tries other targets. ReLU: tanh dominated the CPU time of a training step."""

    def __init__(self, obs_dim: int, ids: int, targets: tuple[int, ...], hidden: int, layers: int,
                 steer_hidden: int, n_actions: int) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.velocity, self.first, self.count, self.teammates, self.teammate_count = targets
        distances = self.count * (1 + self.teammate_count)
        self.choose = mlp(obs_dim + ids + distances, hidden, layers, self.count, nn.ReLU)
        self.steer = mlp(4 + 2 * self.teammate_count, steer_hidden, layers, n_actions, nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x `(..., obs_dim + ids)` (observation, then agent id one-hot) -> action log-probs `(..., A)`."""
        obs = x[..., : self.obs_dim]
        places = obs[..., self.first : self.first + 2 * self.count].unflatten(-1, (self.count, 2))  # (..., K, 2)
        mates = obs[..., self.teammates : self.teammates + 2 * self.teammate_count]
        mates = mates.unflatten(-1, (self.teammate_count, 2))  # (..., J, 2)
        agents = torch.cat([torch.zeros_like(places[..., :1, :]), mates], -2)  # (..., 1 + J, 2) self at 0
        distances = (places.unsqueeze(-3) - agents.unsqueeze(-2)).norm(dim=-1).flatten(-2)  # (..., (1 + J) K)
        log_choice = torch.log_softmax(self.choose(torch.cat([x, distances], -1)), -1)  # (..., K)
        own = torch.cat([obs[..., self.velocity : self.velocity + 2], mates.flatten(-2)], -1)  # (..., 2 + 2J)
        own = own.unsqueeze(-2).expand(*places.shape[:-1], own.shape[-1])  # (..., K, 2 + 2J)
        log_steer = torch.log_softmax(self.steer(torch.cat([own, places], -1)), -1)  # (..., K, A)
        return torch.logsumexp(log_choice.unsqueeze(-1) + log_steer, dim=-2)  # (..., A)


class TeamPolicy(nn.Module):
    """Discrete actions for every seat of a team. Rebuilt from its `args` (stored in checkpoints)."""

    def __init__(
        self,
        agents: list[str],
        obs_dims: dict[str, int],
        n_actions: dict[str, int],
        hidden: int = 128,
        layers: int = 2,
        targets: dict[str, list[int]] | None = None,
        steer_hidden: int = 32,
    ) -> None:
        """`targets`: role -> [velocity, first, count, teammates, teammate_count] (`games.spec.Targets`) for
        the roles that get a `ChooseAndSteer` network; every other role gets a plain MLP."""
        super().__init__()
        targets = {role: [int(v) for v in t] for role, t in (targets or {}).items()}
        self.args = {"agents": list(agents), "obs_dims": dict(obs_dims), "n_actions": dict(n_actions),
                     "hidden": hidden, "layers": layers, "targets": targets, "steer_hidden": steer_hidden}
        self.agents = list(agents)
        self.roles = list(dict.fromkeys(role_of(a) for a in agents))
        self.max_actions = max(n_actions.values())
        self.nets = nn.ModuleDict()
        for role in self.roles:
            members = [i for i, a in enumerate(agents) if role_of(a) == role]
            self.register_buffer(f"idx_{role}", torch.tensor(members, dtype=torch.long), persistent=False)
            self.register_buffer(f"onehot_{role}", torch.eye(len(members)), persistent=False)  # (n_role, n_role)
            if role in targets:
                self.nets[role] = ChooseAndSteer(obs_dims[role], len(members), tuple(targets[role]), hidden, layers,
                                                 steer_hidden, n_actions[role])
            else:
                self.nets[role] = mlp(obs_dims[role] + len(members), hidden, layers, n_actions[role])
        self.obs_dims, self.n_actions = dict(obs_dims), dict(n_actions)
        self.game: str | None = None  # set by load_team from the checkpoint, so scripts know what to make
        self.game_kwargs: dict[str, Any] = {}

    @classmethod
    def for_game(cls, info: Any, hidden: int = 128, layers: int = 2, use_targets: bool = True,
                 steer_hidden: int = 32) -> TeamPolicy:
        """A fresh policy for a game's `GameInfo`; `use_targets` gives the roles whose observations list
        places to head for a `ChooseAndSteer` network."""
        targets = {role: [t.velocity, t.first, t.count, t.teammates, t.teammate_count]
                   for role, t in info.targets.items()} if use_targets else {}
        return cls(list(info.agents), info.obs_dims, info.n_actions, hidden, layers, targets, steer_hidden)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs `(..., n_agents, obs_dim)` -> logits `(..., n_agents, max_actions)` (missing actions -1e9)."""
        lead = obs.shape[:-2]
        logits = obs.new_full((*lead, len(self.agents), self.max_actions), MISSING_ACTION)
        for role in self.roles:
            idx, onehot = getattr(self, f"idx_{role}"), getattr(self, f"onehot_{role}")
            x = obs[..., idx, : self.obs_dims[role]]  # (..., n_role, obs_dim_role)
            x = torch.cat([x, onehot.expand(*lead, *onehot.shape)], dim=-1)
            logits[..., idx, : self.n_actions[role]] = self.nets[role](x)
        return logits

    @torch.no_grad()
    def sample(self, obs: torch.Tensor, generator: torch.Generator | None = None,
               deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions `(..., n_agents)` and their log-probs. Gumbel-max sampling with an explicit generator keeps
        runs reproducible without touching the global RNG."""
        logp = torch.log_softmax(self(obs), dim=-1)  # (..., n, A)
        if deterministic:
            actions = logp.argmax(dim=-1)
        else:
            u = torch.rand(logp.shape, generator=generator, device=logp.device).clamp_(1e-20, 1.0)
            actions = (logp - torch.log(-torch.log(u))).argmax(dim=-1)
        return actions, logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1)

    def act(self, observations: dict[str, Any], deterministic: bool = True) -> dict[str, int]:
        """PettingZoo dict of observations for the live agents -> dict of actions for those agents."""
        width = max(self.obs_dims.values())
        device = next(self.parameters()).device
        obs = torch.as_tensor(batchify(observations, self.agents, width), device=device)  # (n, D)
        actions, _ = self.sample(obs.unsqueeze(0), deterministic=deterministic)
        return {a: int(actions[0, i]) for i, a in enumerate(self.agents) if a in observations}

    def numpy_policy(self, deterministic: bool = True, seed: int = 0):
        """`obs (B, n, D) ndarray -> actions (B, n) ndarray`, the form baselines and evaluation use."""
        device = next(self.parameters()).device
        generator = torch.Generator(device=device).manual_seed(seed)

        def policy(obs: np.ndarray, info: Any = None) -> np.ndarray:
            actions, _ = self.sample(torch.as_tensor(obs, device=device), generator, deterministic)
            return actions.cpu().numpy()

        return policy
