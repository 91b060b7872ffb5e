"""The team policy: one network per role, shared by that role's agents, told apart by an agent-id one-hot.

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


def mlp(inputs: int, hidden: int, layers: int, outputs: int) -> nn.Sequential:
    """tanh MLP; the last layer starts small so the untrained policy is close to uniform (generation 0)."""
    dims = [inputs] + [hidden] * layers
    blocks: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        blocks += [nn.Linear(a, b), nn.Tanh()]
    head = nn.Linear(dims[-1], outputs)
    nn.init.orthogonal_(head.weight, gain=0.01)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*blocks, head)


class TeamPolicy(nn.Module):
    """Discrete actions for every seat of a team. Rebuilt from its `args` (stored in checkpoints)."""

    def __init__(
        self,
        agents: list[str],
        obs_dims: dict[str, int],
        n_actions: dict[str, int],
        hidden: int = 128,
        layers: int = 2,
    ) -> None:
        super().__init__()
        self.args = {"agents": list(agents), "obs_dims": dict(obs_dims), "n_actions": dict(n_actions),
                     "hidden": hidden, "layers": layers}
        self.agents = list(agents)
        self.roles = list(dict.fromkeys(role_of(a) for a in agents))
        self.max_actions = max(n_actions.values())
        self.nets = nn.ModuleDict()
        for role in self.roles:
            members = [i for i, a in enumerate(agents) if role_of(a) == role]
            self.register_buffer(f"idx_{role}", torch.tensor(members, dtype=torch.long), persistent=False)
            self.register_buffer(f"onehot_{role}", torch.eye(len(members)), persistent=False)  # (n_role, n_role)
            self.nets[role] = mlp(obs_dims[role] + len(members), hidden, layers, n_actions[role])
        self.obs_dims, self.n_actions = dict(obs_dims), dict(n_actions)
        self.game: str | None = None  # set by load_team from the checkpoint, so scripts know what to make
        self.game_kwargs: dict[str, Any] = {}

    @classmethod
    def for_game(cls, info: Any, hidden: int = 128, layers: int = 2) -> TeamPolicy:
        """A fresh policy for a game's `GameInfo`."""
        return cls(list(info.agents), info.obs_dims, info.n_actions, hidden, layers)

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
