"""The heads: batch moments after BN, the KL floor, eval-mode running statistics, the scaler's factors."""

import math

import pytest
import torch

from kexue.errors import UsageError
from kexue.vae.heads import BNHead, BNScalerHead, GaussianHead, Posterior, Scaler, kl_bound, make_head, recalibrate_bn


def _h(n=512, dim=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=g) * 2 + 0.5


@pytest.mark.parametrize("gamma", [0.5, 0.6, 1.0])
def test_bn_head_batch_moments_follow_beta_and_gamma(gamma):
    torch.manual_seed(0)
    head = BNHead(16, 8, gamma=gamma).train()
    beta = torch.linspace(-0.3, 0.4, 8)
    head.bn.bias.data.copy_(beta)
    post = head(_h())
    assert torch.allclose(post.mu.mean(0), beta, atol=1e-5)
    assert torch.allclose(post.mu.pow(2).mean(0), beta ** 2 + gamma ** 2, rtol=1e-4)
    # gamma is fixed, beta learnt, log-variance untouched by BN
    assert not head.bn.weight.requires_grad and head.bn.bias.requires_grad
    assert torch.allclose(post.logvar, head.linear(_h())[:, 8:])


@pytest.mark.parametrize("var_floor", [0.0, 0.1, 0.5])
def test_bn_scaler_head_moments_and_unit_sum(var_floor):
    torch.manual_seed(1)
    head = BNScalerHead(16, 8, tau=0.5, var_floor=var_floor).train()
    head.scaler.theta.data.copy_(torch.linspace(-3, 3, 8))
    g_mu, g_sigma = head.gammas()
    assert torch.allclose(g_mu ** 2 + g_sigma ** 2, torch.ones(8), atol=1e-6)
    post = head(_h())
    assert torch.allclose(post.mu.mean(0), torch.zeros(8), atol=1e-5)
    assert torch.allclose(post.mu.pow(2).mean(0), g_mu ** 2, rtol=1e-4)
    assert torch.allclose(post.var.mean(0), g_sigma ** 2, rtol=1e-4)  # the floor keeps the batch mean of sigma^2
    assert head.kl_bound() >= kl_bound(8, tau=0.5) - 1e-9
    assert bool((post.logvar >= head.logvar_floor() - 1e-5).all())


def _batch_with_a_centre_sample(n=32, dim=16, seed=0):
    """Random rows, the first one equal to the batch mean: after BN its std (and mean) is exactly 0."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g) * 2
    x[0] = x[1:].mean(0)
    return x


@pytest.mark.parametrize("var_floor", [0.1, 0.3])
def test_bn_scaler_per_sample_kl_bounded_by_the_floor(var_floor):
    """The runaway of the literal head: a sample at the batch centre gets sigma ~ 0 and an unbounded KL.

    With the floor, sigma^2 >= lambda gamma_sigma^2 for every sample, and in a batch of b every BN
    output satisfies s^2 <= b - 1, which bounds each sample's KL by a constant of the floor.
    """
    torch.manual_seed(0)
    x = _batch_with_a_centre_sample()
    b, d = x.shape[0], 32
    head = BNScalerHead(16, d, tau=0.5, var_floor=var_floor).train()
    head.scaler.theta.data.copy_(torch.linspace(-4, 4, d))
    post = head(x)
    g_mu, g_sigma = head.gammas()
    lam = var_floor
    bound = 0.5 * ((b - 1) * g_mu ** 2 + g_sigma ** 2 * (lam + (1 - lam) * (b - 1))
                   - torch.log(lam * g_sigma ** 2) - 1).sum()
    kl = post.kl()
    assert bool((kl <= bound + 1e-4).all())
    assert bool((post.logvar >= head.logvar_floor() - 1e-5).all())
    # the centre sample sits exactly at the floor (sigma^2 = lambda gamma_sigma^2, mu = 0): its KL is known
    assert torch.allclose(post.var[0], lam * g_sigma ** 2, rtol=1e-3)
    centre = 0.5 * (lam * g_sigma ** 2 - torch.log(lam * g_sigma ** 2) - 1).sum()
    assert abs(kl[0].item() - centre.item()) < 1e-3 * centre.item()
    # the literal head (lambda = 0) on the same batch: sigma^2 = var_eps, hundreds of nats
    lit = BNScalerHead(16, d, tau=0.5, var_floor=0.0).train()
    lit.load_state_dict(head.state_dict())
    assert lit(x).kl()[0].item() > 2 * centre.item() and lit(x).kl()[0].item() > 200
    # and near the centre the gradient of that sample's KL explodes (~1/s), while the floored one stays small
    for delta in (1e-4, 1e-3):
        grads = []
        for m in (head, lit):
            h = x.clone()
            h[0] += delta
            h.requires_grad_(True)
            m(h).kl()[0].backward()
            grads.append(h.grad.norm().item())
        assert grads[0] < 10 and grads[1] > 1000


def test_bn_scaler_floor_holds_in_eval_mode():
    torch.manual_seed(0)
    head = BNScalerHead(16, 8, tau=0.5, var_floor=0.1).train()
    for i in range(20):
        head(_h(64, 16, seed=i))
    head.eval()
    w = head.std.weight.detach()
    # an input whose std pre-activation equals the running mean: s = 0 under the population statistics
    target = head.bn_std.running_mean - head.std.bias.detach()
    h = torch.linalg.lstsq(w, target.unsqueeze(1)).solution.T
    post = head(h)
    assert torch.allclose(head.bn_std(head.std(h)), torch.zeros(1, 8), atol=1e-3)
    assert bool((post.logvar >= head.logvar_floor() - 1e-4).all())


def test_scaler_at_theta_zero():
    s = Scaler(3, tau=0.5)
    g_mu, g_sigma = s.factors()
    assert torch.allclose(g_mu, torch.full((3,), math.sqrt(0.75)))
    assert torch.allclose(g_sigma, torch.full((3,), math.sqrt(0.25)))
    s2 = Scaler(1, tau=0.2)  # gamma_mu^2 >= tau for any theta
    for th in (-50.0, 0.0, 50.0):
        s2.theta.data.fill_(th)
        assert s2.factors()[0].item() ** 2 >= 0.2 - 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_batch_kl_never_below_the_floor(seed):
    g = torch.Generator().manual_seed(seed)
    for head in (BNHead(16, 32, gamma=0.6), BNHead(16, 32, gamma=0.3), BNScalerHead(16, 32, tau=0.5),
                 BNScalerHead(16, 32, tau=0.9), BNScalerHead(16, 32, tau=0.5, var_floor=0.0),
                 BNScalerHead(16, 32, tau=0.5, var_floor=0.5)):
        for p in head.parameters():
            if p.requires_grad:
                p.data.normal_(0, 1, generator=g)
        h = torch.randn(64, 16, generator=g) * torch.rand(1, generator=g)
        kl = head.train()(h).kl().mean().item()
        assert kl >= head.kl_bound() * (1 - 1e-5)
        gamma = getattr(head, "gamma", None)
        floor = kl_bound(32, gamma=gamma) if gamma else kl_bound(32, tau=head.tau)
        assert kl >= floor * (1 - 1e-5)
        if isinstance(head, BNScalerHead):  # the sharper floor from Jensen, >= -(d/2) log(1 - tau) >= d tau / 2
            sharp = head.kl_floor_sharp()
            assert kl >= sharp * (1 - 1e-4)
            assert sharp >= -16 * math.log(1 - head.tau) * (1 - 1e-6) >= floor


def test_plain_head_has_no_floor():
    head = GaussianHead(4, 3)
    assert head.linear.bias is None  # as the official encoder: W = 0 is exactly the prior
    for p in head.parameters():
        p.data.zero_()
    assert head(torch.randn(10, 4)).kl().abs().max().item() == 0.0
    assert GaussianHead(4, 3, bias=True).linear.bias is not None


def test_eval_mode_uses_running_statistics():
    torch.manual_seed(0)
    head = BNHead(8, 4, gamma=0.7).train()
    for i in range(30):
        head(_h(128, 8, seed=i))
    head.eval()
    x = _h(5, 8, seed=99)
    pre = head.linear(x)[:, :4]
    bn = head.bn
    expect = (pre - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * 0.7 + bn.bias
    assert torch.allclose(head(x).mu, expect, atol=1e-5)
    assert torch.allclose(head(x[:1]).mu, expect[:1], atol=1e-5)  # one sample works in eval mode


def test_recalibrate_gives_population_statistics():
    torch.manual_seed(0)
    head = BNScalerHead(8, 4).train()
    x = _h(300, 8)
    recalibrate_bn(head, head, [x[:100], x[100:]])
    head.eval()
    post = head(x)  # evaluated on the calibration data: exact moments (unbiased variance)
    g_mu, _ = head.gammas()
    assert torch.allclose(post.mu.mean(0), torch.zeros(4), atol=1e-5)
    assert torch.allclose(post.mu.pow(2).mean(0), g_mu ** 2 * 299 / 300, rtol=1e-4)


def test_bad_parameters_are_user_errors():
    for bad in (0.0, -0.5, float("nan")):
        with pytest.raises(UsageError, match="gamma"):
            BNHead(4, 2, gamma=bad)
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(UsageError, match="tau"):
            BNScalerHead(4, 2, tau=bad)
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(UsageError, match="var-floor"):
            BNScalerHead(4, 2, var_floor=bad)
    with pytest.raises(UsageError, match="latent"):
        make_head("bn", 4, 0)
    with pytest.raises(UsageError, match="unknown head"):
        make_head("ln", 4, 2)


def test_posterior_kl_and_log_prob_match_torch_distributions():
    g = torch.Generator().manual_seed(3)
    mu, lv = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)
    post = Posterior(mu, lv)
    q = torch.distributions.Normal(mu, (0.5 * lv).exp())
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    assert torch.allclose(post.kl(), torch.distributions.kl_divergence(q, p).sum(-1), atol=1e-5)
    z = post.sample(4, generator=g)
    assert torch.allclose(post.log_prob(z), q.log_prob(z.transpose(0, 1)).sum(-1).transpose(0, 1), atol=1e-5)
