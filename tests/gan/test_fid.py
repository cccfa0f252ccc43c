"""FID: the matrix square root against scipy, closed forms, torchmetrics, and a real-data ordering."""

import numpy as np
import pytest
import scipy.linalg
import torch

from kexue.errors import UsageError
from kexue.gan.fid import (
    FeatureExtractorMissing,
    default_feature_extractor,
    extract_features,
    feature_stats,
    fid,
    frechet_distance,
    trace_sqrt_product,
)


def _random_cov(rng, n, rank=None):
    a = rng.standard_normal((n, rank or n))
    return a @ a.T / (rank or n)


@pytest.mark.parametrize("n, rank", [(5, None), (32, None), (64, 20)])
def test_trace_sqrt_matches_scipy_sqrtm(n, rank):
    rng = np.random.default_rng(n)
    s1, s2 = _random_cov(rng, n, rank), _random_cov(rng, n)
    ref = np.trace(scipy.linalg.sqrtm(s1 @ s2)).real
    assert trace_sqrt_product(s1, s2) == pytest.approx(ref, rel=1e-8, abs=1e-8)


def test_gaussian_closed_forms():
    rng = np.random.default_rng(1)
    s = _random_cov(rng, 6)
    mu = rng.standard_normal(6)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0, abs=1e-10)
    # same covariance: only the means count
    assert frechet_distance(mu, s, mu + 2, s) == pytest.approx(4 * 6, rel=1e-10)
    # commuting (diagonal) covariances: Σ (√a - √b)²
    a, b = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    assert frechet_distance(mu, np.diag(a), mu, np.diag(b)) == pytest.approx(((np.sqrt(a) - np.sqrt(b)) ** 2).sum())
    # symmetric in its two arguments
    s2 = _random_cov(rng, 6)
    assert frechet_distance(mu, s, 0 * mu, s2) == pytest.approx(frechet_distance(0 * mu, s2, mu, s), rel=1e-10)


def test_bad_shapes_are_user_errors():
    with pytest.raises(UsageError):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(UsageError):
        feature_stats(np.zeros((1, 4)))


def _feature_net(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 5, 2, 2), torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 5, 2, 2),
                              torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten())
    return net.eval()


def test_matches_torchmetrics():
    tm = pytest.importorskip("torchmetrics.image.fid")
    net = _feature_net()
    g = torch.Generator().manual_seed(0)
    real = torch.rand(400, 1, 28, 28, generator=g)
    fake = (torch.rand(400, 1, 28, 28, generator=g) ** 2)
    ours = fid(real, fake, feature=net)

    class F(torch.nn.Module):
        num_features = 64

        def forward(self, x):
            return net(x)

    metric = tm.FrechetInceptionDistance(feature=F(), normalize=True)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    assert ours == pytest.approx(float(metric.compute()), rel=1e-3)


def test_fid_orders_real_data_sensibly():
    from kexue.data import load_mnist

    x, y = load_mnist("fashion-mnist", "test")
    imgs = torch.from_numpy(x[:4000].copy()).float().div(255).unsqueeze(1)
    net = _feature_net(1)
    a, b = imgs[:2000], imgs[2000:4000]
    noise = torch.rand(2000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    one_class = imgs[torch.from_numpy(y[:4000] == 7)][:500]  # sneakers only: mode collapse
    f_real = fid(a, b, feature=net)
    f_collapsed = fid(a, one_class, feature=net)
    f_noise = fid(a, noise, feature=net)
    assert f_real < f_collapsed < f_noise
    assert f_real < 0.1 * f_collapsed
    feats = extract_features(net, a[:10], batch_size=3)
    assert feats.shape == (10, 64) and feats.dtype == np.float64


def test_missing_default_extractor_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "kexue.nn", None)  # as if the nn topic were not installed
    with pytest.raises(FeatureExtractorMissing, match="feature network"):
        default_feature_extractor()


def test_default_features_are_the_nn_classifiers_when_cached():
    """FID's default features are kexue.nn's classifier (128-d); skipped where its weights are not cached yet
    (training them takes minutes)."""
    nn_classifier = pytest.importorskip("kexue.nn.classifier")
    if not nn_classifier.feature_cache_path("fashion-mnist").is_file():
        pytest.skip("kexue.nn's Fashion-MNIST features are not cached on this machine")
    from kexue.gan.training import load_images

    feat = default_feature_extractor("fashion-mnist")
    assert type(feat).__module__ == "kexue.nn.classifier"
    test, train = load_images("fashion-mnist", "test")[:2000], load_images("fashion-mnist")[:2000]
    assert tuple(feat(test[:4]).shape) == (4, 128)
    real = fid(train, test)  # default features
    noise = fid(torch.rand(2000, 1, 28, 28), test, feature=feat)
    assert real < noise / 100, (real, noise)
