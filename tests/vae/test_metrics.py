"""Metrics and objectives: active units, MI, the importance-weighted likelihood, schedules, free bits."""

import math

import torch

from kexue.vae.heads import Posterior, standard_normal_log_prob
from kexue.vae.metrics import active_units, iw_log_likelihood, mutual_information, perplexity
from kexue.vae.objectives import kl_term, kl_weight


def test_active_units_threshold():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(5000, 4, generator=g) * torch.tensor([1.0, 0.2, 0.05, 0.0])
    n, var = active_units(mu)
    assert n == 2  # variances 1, 0.04 > 0.01 ; 0.0025, 0 are not
    assert abs(var[1].item() - 0.04) < 0.005


def test_mutual_information_limits():
    g = torch.Generator().manual_seed(0)
    n = 256
    mu = torch.randn(n, 4, generator=g) * 100  # well separated: I(x; z) = H(x) = log n
    mi = mutual_information(mu, torch.full((n, 4), -2.0))
    assert abs(mi - math.log(n)) < 0.05
    # posteriors equal to the prior: no information
    assert abs(mutual_information(torch.zeros(2000, 4), torch.zeros(2000, 4))) < 0.1


def test_iw_likelihood_is_exact_with_the_true_posterior():
    # p(z) = N(0, 1), p(x|z) = N(z, 1)  =>  p(x) = N(0, 2), p(z|x) = N(x/2, 1/2)
    x = torch.tensor([[-1.0], [0.3], [2.0]])
    post = Posterior(x / 2, torch.full_like(x, math.log(0.5)))
    z = post.sample(7, generator=torch.Generator().manual_seed(1))  # (3, 7, 1)
    log_px_z = -0.5 * ((x.unsqueeze(1) - z) ** 2 + math.log(2 * math.pi)).sum(-1)
    est = iw_log_likelihood(log_px_z, standard_normal_log_prob(z), post.log_prob(z))
    exact = -0.5 * (x[:, 0] ** 2 / 2 + math.log(2 * math.pi * 2))
    assert torch.allclose(est, exact, atol=1e-5)


def test_perplexity():
    assert abs(perplexity(10 * math.log(50), 10) - 50) < 1e-9


def test_schedules():
    steps = 100
    w = [kl_weight("anneal", s, steps, start=0.1, warmup=0.5) for s in range(steps)]
    assert w[0] == 0.1 and w[-1] == 1.0 and all(a <= b for a, b in zip(w, w[1:], strict=False))
    c = [kl_weight("cyclic", s, steps, cycles=4) for s in range(steps)]
    assert c.count(0.0) == 4 and max(c) == 1.0 and c[25] == 0.0 and c[24] == 1.0
    assert all(kl_weight("elbo", s, steps) == 1.0 for s in range(steps))


def test_free_bits_stop_gradients_below_the_floor():
    kl = torch.tensor([[0.1, 2.0], [0.1, 2.0]], requires_grad=True)
    kl_term(kl, "free-bits", free_bits=0.5).backward()
    assert kl.grad[:, 0].abs().max() == 0 and kl.grad[:, 1].abs().min() > 0
