"""An MLP VAE for 28x28 images (MNIST, Fashion-MNIST) with any head of :mod:`kexue.vae.heads`.

Pixels are binarised at 1/2 and modelled as independent Bernoulli variables, so the
reconstruction term and the importance-weighted NLL are true log-likelihoods in nats per image.

>>> import torch
>>> model = ImageVAE(hidden=32, latent=4, head="bn-scaler")
>>> rec, post = model(torch.rand(6, 784).round())
>>> tuple(rec.shape), tuple(post.mu.shape)
((6,), (6, 4))
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .heads import DEFAULT_VAR_FLOOR, Posterior, make_head, standard_normal_log_prob
from .metrics import active_units, iw_log_likelihood, mutual_information


def binarise(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N, 28, 28) -> float tensor (N, 784) of 0/1 (pixel > 127).

    >>> binarise(np.array([[[0, 200]]], dtype=np.uint8)).tolist()
    [[0.0, 1.0]]
    """
    return torch.from_numpy((images.reshape(len(images), -1) > 127).astype(np.float32))


class ImageVAE(nn.Module):
    """Encoder 784 -> 2 hidden layers -> head; decoder z -> 2 hidden layers -> 784 Bernoulli logits."""

    def __init__(self, pixels: int = 784, hidden: int = 256, latent: int = 32, head: str = "bn", gamma: float = 0.6,
                 tau: float = 0.5, var_floor: float = DEFAULT_VAR_FLOOR):
        super().__init__()
        self.config = dict(pixels=pixels, hidden=hidden, latent=latent, head=head, gamma=gamma, tau=tau,
                           var_floor=var_floor)
        self.latent = latent
        self.encoder = nn.Sequential(nn.Linear(pixels, 2 * hidden), nn.ReLU(), nn.Linear(2 * hidden, hidden), nn.ReLU())
        # ReLU features: keep a bias
        self.head = make_head(head, hidden, latent, gamma=gamma, tau=tau, bias=True, var_floor=var_floor)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 2 * hidden), nn.ReLU(),
                                     nn.Linear(2 * hidden, pixels))

    def encode(self, x: torch.Tensor) -> Posterior:
        """q(z|x) for a batch of flattened images."""
        return self.head(self.encoder(x))

    def reconstruction(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) per image in nats; ``z`` (n, d) or (n, k, d)."""
        logits = self.decoder(z)
        target = x if z.dim() == 2 else x.unsqueeze(1).expand_as(logits)
        return F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Posterior]:
        post = self.encode(x)
        return self.reconstruction(post.sample(), x), post

    @torch.no_grad()
    def iw_nll(self, x: torch.Tensor, k: int = 100, generator: torch.Generator | None = None) -> torch.Tensor:
        """-log p(x) per image with ``k`` importance samples."""
        post = self.encode(x)
        z = post.sample(k, generator=generator)
        return -iw_log_likelihood(-self.reconstruction(z, x), standard_normal_log_prob(z), post.log_prob(z))

    @torch.no_grad()
    def sample_images(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel probabilities (n, 784) decoded from z ~ N(0, I)."""
        z = torch.randn((n, self.latent), generator=generator)
        return torch.sigmoid(self.decoder(z.to(next(self.parameters()).device)))


@torch.no_grad()
def evaluate(model: ImageVAE, x: torch.Tensor, *, iw_samples: int = 100, nll_limit: int | None = 1000, seed: int = 0,
             batch_size: int = 500, with_nll: bool = True) -> dict:
    """KL, MI, AU, reconstruction and negative ELBO on all of ``x``; IW-NLL on ``nll_limit`` images."""
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    mus, lvs, rec = [], [], 0.0
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size].to(dev)
        post = model.encode(xb)
        z = post.mu + (0.5 * post.logvar).exp() * torch.randn(post.mu.shape, generator=gen).to(dev)
        rec += float(model.reconstruction(z, xb).sum())
        mus.append(post.mu.cpu())
        lvs.append(post.logvar.cpu())
    post = Posterior(torch.cat(mus), torch.cat(lvs))
    au, var = active_units(post.mu)
    out = {"kl": float(post.kl().mean()), "mi": mutual_information(post.mu, post.logvar, seed=seed), "au": au,
           "au_var_min": float(var.min()), "rec": rec / len(x), "images": len(x)}
    out["elbo"] = out["rec"] + out["kl"]
    if with_nll:
        n = len(x) if not nll_limit else min(nll_limit, len(x))
        idx = torch.linspace(0, len(x) - 1, n).round().long()
        total = 0.0
        for i in range(0, n, 50):
            total += float(model.iw_nll(x[idx[i:i + 50]].to(dev), iw_samples, generator=gen).sum())
        out.update(nll=total / n, ppl=None, nll_images=n, iw_samples=iw_samples)
    model.train(was)
    return out
