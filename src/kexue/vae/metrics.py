"""The metrics of the KL-vanishing literature (He et al. 2019, "Lagging inference networks"; Zhu et al. 2020).

* :func:`active_units`: dimension u is active if Cov_x(E_q[z_u | x]) > 0.01 (Burda et al. 2016);
* :func:`mutual_information`: I(x; z) under q(x, z) = p_data(x) q(z|x), estimated as
  E[log q(z|x)] - E[log q(z)] with the aggregate posterior q(z) = mean_x q(z|x) over the
  evaluation set (the ``calc_mi`` estimator; here over the whole set rather than per batch, so it is
  bounded by log N rather than log(batch size));
* :func:`iw_log_likelihood`: the importance-weighted estimate
  log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K (Burda et al. 2016);
* :func:`perplexity`: exp(total NLL / number of predicted tokens).

>>> import torch
>>> mu = torch.tensor([[0.0, 1.0], [0.0, -1.0], [0.0, 0.5]])
>>> active_units(mu)[0]     # the first dimension never moves
1
"""

from __future__ import annotations

import math

import torch


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> tuple[int, torch.Tensor]:
    """(number of active dimensions, per-dimension variance of the posterior means over the data).

    ``mu`` holds E_q[z|x] for every x of the evaluation set, shape (N, d). The variance is the
    unbiased one, as in ``calc_au``.

    >>> n, var = active_units(torch.randn(1000, 4) * torch.tensor([1.0, 0.5, 0.05, 0.0]))
    >>> n
    2
    """
    var = mu.double().var(dim=0, unbiased=True) if mu.shape[0] > 1 else torch.zeros(mu.shape[1])
    return int((var > threshold).sum()), var.float()


def mutual_information(mu: torch.Tensor, logvar: torch.Tensor, seed: int = 0, chunk: int = 512) -> float:
    """I(x; z) in nats, estimated from the posteriors N(mu_i, exp(logvar_i)) of the N evaluation points.

    One z_i ~ q(z|x_i) per point; log q(z_i) = logsumexp_j log q(z_i|x_j) - log N.

    >>> mu = torch.zeros(200, 3); lv = torch.zeros(200, 3)
    >>> abs(mutual_information(mu, lv)) < 0.3     # every posterior the same: I = 0 (up to sampling noise)
    True
    >>> mutual_information(torch.randn(2000, 2) * 10, torch.zeros(2000, 2) - 4) > 5   # far-apart posteriors
    True
    """
    mu, logvar = mu.double(), logvar.double()
    n, d = mu.shape
    gen = torch.Generator().manual_seed(seed)
    z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=gen, dtype=torch.float64)
    neg_entropy = (-0.5 * d * math.log(2 * math.pi) - 0.5 * (1 + logvar).sum(-1)).mean()
    prec = (-logvar).exp()  # 1 / sigma^2, (N, d)
    # sum_j (z_ij - mu_kj)^2 / var_kj = z_i^2 . prec_k - 2 z_i . (mu_k prec_k) + mu_k^2 . prec_k: two matrix
    # products (in float64) instead of an (N, N, d) tensor
    const = -0.5 * (d * math.log(2 * math.pi) + logvar.sum(-1)) - 0.5 * (mu.pow(2) * prec).sum(-1)  # (N,)
    mu_prec = mu * prec
    log_qz = []
    for i in range(0, n, chunk):
        zc = z[i:i + chunk]  # (c, d)
        log_density = -0.5 * (zc.pow(2) @ prec.T) + zc @ mu_prec.T + const.unsqueeze(0)  # (c, N)
        log_qz.append(torch.logsumexp(log_density, dim=1) - math.log(n))
    return float(neg_entropy - torch.cat(log_qz).mean())


def iw_log_likelihood(log_px_z: torch.Tensor, log_pz: torch.Tensor, log_qz_x: torch.Tensor) -> torch.Tensor:
    """log p(x) estimated from K importance samples; each input has shape (batch, K).

    >>> t = torch.zeros(1, 4)
    >>> iw_log_likelihood(t - 2.0, t, t).item()    # equal weights: log p(x|z)
    -2.0
    """
    k = log_px_z.shape[-1]
    return torch.logsumexp(log_px_z + log_pz - log_qz_x, dim=-1) - math.log(k)


def perplexity(total_nll: float, tokens: int) -> float:
    """exp(total NLL / tokens); ``tokens`` counts every predicted token (words plus end-of-sentence).

    >>> perplexity(2 * math.log(10), 2)
    10.000000000000002
    """
    return math.exp(total_nll / max(tokens, 1))
