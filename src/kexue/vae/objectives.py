"""Training objectives of a VAE: how the KL term enters the loss at each step.

* ``elbo``: the plain negative ELBO, rec + KL;
* ``anneal``: rec + beta_t KL with beta_t rising linearly from ``start`` (0.1) to 1 over the first
  ``warmup`` fraction of the steps (Bowman et al. 2016), then 1;
* ``cyclic``: Fu et al. (NAACL 2019): the steps are cut into ``cycles`` equal cycles; in each,
  beta rises linearly from 0 to 1 over the first ``ratio`` (1/2) of the cycle, then stays at 1;
* ``free-bits``: Kingma et al. (2016), per dimension: rec + sum_j max(lambda, E_batch KL_j), so
  no dimension is pushed below ``lambda`` nats.

Any objective combines with any head.

>>> [kl_weight("cyclic", s, 8, cycles=2) for s in range(8)]
[0.0, 0.5, 1.0, 1.0, 0.0, 0.5, 1.0, 1.0]
>>> kl_weight("anneal", 0, 100), kl_weight("anneal", 50, 100), kl_weight("elbo", 3, 100)
(0.1, 1.0, 1.0)
"""

from __future__ import annotations

import math

import torch

from ..errors import UsageError

OBJECTIVES = ("elbo", "anneal", "free-bits", "cyclic")


def check_objective(objective: str) -> str:
    """Validate an objective name."""
    if objective not in OBJECTIVES:
        raise UsageError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    return objective


def kl_weight(objective: str, step: int, total_steps: int, *, start: float = 0.1, warmup: float = 0.5,
              cycles: int = 4, ratio: float = 0.5) -> float:
    """The KL weight beta at training step ``step`` (0-based) of ``total_steps``.

    >>> kl_weight("anneal", 25, 100)   # halfway through the warm-up
    0.55
    """
    check_objective(objective)
    total_steps = max(int(total_steps), 1)
    if objective == "anneal":
        ramp = max(warmup * total_steps, 1.0)
        return min(1.0, start + (1.0 - start) * step / ramp)
    if objective == "cyclic":
        period = total_steps / max(int(cycles), 1)
        pos = (step % period) / period if period > 0 else 1.0
        return min(1.0, pos / ratio) if ratio > 0 else 1.0
    return 1.0


def kl_term(kl_per_dim: torch.Tensor, objective: str, weight: float = 1.0, free_bits: float = 0.25) -> torch.Tensor:
    """The KL part of the loss for a batch, given the per-sample per-dimension KL (batch, d).

    ``free-bits`` clamps each dimension's batch-mean KL from below at ``free_bits`` nats; the
    other objectives return ``weight`` times the batch-mean KL.

    >>> kl = torch.tensor([[0.0, 1.0], [0.2, 1.0]])
    >>> kl_term(kl, "elbo").item(), round(kl_term(kl, "free-bits", free_bits=0.5).item(), 6)
    (1.100000023841858, 1.5)
    """
    check_objective(objective)
    per_dim = kl_per_dim.mean(0)
    if objective == "free-bits":
        return torch.clamp(per_dim, min=free_bits).sum()
    return weight * per_dim.sum()


def check_finite(value: float, what: str) -> None:
    """Raise ValueError if ``value`` is NaN or infinite (used to stop a diverged run)."""
    if not math.isfinite(value):
        raise ValueError(f"{what} is {value}")
