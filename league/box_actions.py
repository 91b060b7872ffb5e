"""The head of a team whose actions are numbers (Box spaces): each seat draws its action from a mixture of
Gaussians, one per place it may head for (one Gaussian where the game lists none), with a learned spread.

Why this head: GRPO asks a head for log-probs of what it did and an entropy (`TeamPolicy.evaluate`), and a
Gaussian gives both in closed form, as CleanRL's `ppo_continuous_action.py` does (its spread does not depend on the
observation either). Where the game lists targets, the choice of a target stays a discrete choice (the same
`ChooseAndSteer` net, its steer net giving the means of the numbers instead of the moves' logits): "which
landmark" is still one decision, "how to get there" a point in the box. The numbers are worked in units of the
box: z = (a - centre) / half, so z in [-1, 1] is the box and the spread starts at 1 for every game. A draw
outside the box is clipped by the batch (as mpe2's ClipOutOfBoundsWrapper would), and trained as drawn.
"""

from __future__ import annotations

import math

import torch

LOG_2PI = math.log(2 * math.pi)
LOG_STD_MIN = -2.0
"""The narrowest spread, in box units (0.135 half-widths): below it the ratio of a step's new to old density turns
on differences far smaller than the box, updates clip and the team unlearns what it had. Measured on continuous
simple_spread (`league bench learn`, the preset): without the floor the spread fell to e^-3.1 and greedy play went
from -6.6 at 1 minute to -9.5 at 10, the KL to the reference to 40 and a third of the samples clipped; with it,
-5.9 at 4 minutes and steady (at `league.config.BOX_LR`, -5.8 at 5 minutes, 2-6% clipped; docs/performance.md)."""
MISSING = -1e9  # log-weight of a mixture slot a role does not have


def log_prob(z: torch.Tensor, log_mix: torch.Tensor, means: torch.Tensor, log_std: torch.Tensor,
             numbers: torch.Tensor) -> torch.Tensor:
    """Log-density of the numbers `z` `(..., n, D)` (box units) under each seat's mixture: weights `log_mix`
    `(..., n, K)`, means `(..., n, K, D)`, one spread `log_std` `(n, D)`; only a role's own numbers count
    (`numbers` `(n, D)` bool). Returns `(..., n)`."""
    diff = (z.unsqueeze(-2) - means) * torch.exp(-log_std).unsqueeze(-2)  # (..., n, K, D)
    per_number = -0.5 * diff.square() - log_std.unsqueeze(-2) - 0.5 * LOG_2PI
    component = (per_number * numbers.unsqueeze(-2)).sum(-1)  # (..., n, K)
    return torch.logsumexp(log_mix + component, dim=-1)


def entropy(log_mix: torch.Tensor, log_std: torch.Tensor, numbers: torch.Tensor) -> torch.Tensor:
    """`(..., n)`: the entropy of the choice of component plus that of one Gaussian: an upper bound of the
    mixture's (it has no closed form), reached when the components do not overlap; what the entropy bonus
    keeps from collapsing is the same two things."""
    choice = -(log_mix.exp() * log_mix.clamp(min=MISSING)).sum(-1)  # (..., n)
    spread = ((log_std + 0.5 * (LOG_2PI + 1)) * numbers).sum(-1)  # (n,)
    return choice + spread


def draw(log_mix: torch.Tensor, means: torch.Tensor, log_std: torch.Tensor, generator: torch.Generator | None,
         deterministic: bool) -> torch.Tensor:
    """Numbers `(..., n, D)` in box units: a component by its weight, then a Gaussian draw around its mean; or,
    `deterministic`, the mean of the heaviest component (greedy play)."""
    if deterministic:
        k = log_mix.argmax(-1)
    else:
        u = torch.rand(log_mix.shape, generator=generator, device=log_mix.device).clamp_(1e-20, 1.0)
        k = (log_mix - torch.log(-torch.log(u))).argmax(-1)  # (..., n) Gumbel-max
    mean = means.gather(-2, k[..., None, None].expand(*k.shape, 1, means.shape[-1])).squeeze(-2)  # (..., n, D)
    if deterministic:
        return mean
    noise = torch.randn(mean.shape, generator=generator, device=mean.device)
    return mean + noise * log_std.exp()
