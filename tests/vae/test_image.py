"""The image VAE on real MNIST: heads keep their floors, metrics are sane, sampling works."""

import pytest
import torch

from kexue.vae import training as T
from kexue.vae.image import ImageVAE


def test_image_vae_bn_scaler_on_mnist():
    cfg = T.TrainConfig(data="mnist", head="bn-scaler", tau=0.5, epochs=1, hidden=64, latent=16, max_train=4000,
                        max_eval=1000, iw_samples=20, nll_limit=200)
    s = T.train(cfg, quiet=True)
    assert s["train_kl_min"] >= 0.999 * s["kl_bound"] and s["kl_bound"] == 4.0
    assert s["au"] == 16
    # a binarised MNIST digit costs 784 log 2 = 543 nats with no model; a trained VAE far less
    assert s["nll"] < 300 and s["nll"] <= s["elbo"] + 0.5


@pytest.mark.parametrize("head", ["plain", "bn"])
def test_image_heads_run_and_sample(head):
    torch.manual_seed(0)
    model = ImageVAE(hidden=32, latent=4, head=head)
    x = (torch.rand(64, 784) > 0.5).float()
    rec, post = model(x)
    assert rec.shape == (64,) and torch.all(rec > 0)
    imgs = model.sample_images(5, generator=torch.Generator().manual_seed(0))
    assert imgs.shape == (5, 784) and imgs.min() >= 0 and imgs.max() <= 1
    nll = model.eval().iw_nll(x[:4], k=10)
    assert nll.shape == (4,) and torch.all(nll > 0)
