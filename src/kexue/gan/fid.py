"""Fréchet distance between two image sets in the feature space of any network (FID with our own features).

FID = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½). The trace of the matrix square root is computed
as Tr((Σ₁^½ Σ₂ Σ₁^½)^½) from two symmetric eigen-decompositions: the matrix inside is symmetric
positive semi-definite, so its square root is real and no complex round-off or non-converged
``sqrtm`` iteration can leak in (tiny negative eigenvalues from round-off are clipped to 0).

The default features are those of the ``nn`` topic's Fashion-MNIST classifier
(``kexue.nn.feature_extractor``); any module mapping ``(N, 1, 28, 28)`` images in [0, 1] to
``(N, F)`` features can be used instead. Numbers are only comparable with the same features.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a = rng.standard_normal((2000, 4)); b = rng.standard_normal((2000, 4)) + [1, 0, 0, 0]
>>> round(frechet_distance(*feature_stats(a), *feature_stats(b)), 1)  # ≈ ‖μ₁-μ₂‖² = 1
1.0
"""

from __future__ import annotations

import numpy as np

from ..errors import KexueError, UsageError


class FeatureExtractorMissing(KexueError):
    """The default feature network (``kexue.nn.feature_extractor``) is not available."""


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr((Σ₁Σ₂)^½) for symmetric PSD Σ₁, Σ₂, via the symmetric form Tr((Σ₁^½Σ₂Σ₁^½)^½).

    >>> import numpy as np
    >>> round(trace_sqrt_product(np.diag([4.0, 9.0]), np.eye(2)), 12)
    5.0
    """
    s1 = _sqrt_psd(np.asarray(sigma1, dtype=np.float64))
    m = s1 @ np.asarray(sigma2, dtype=np.float64) @ s1
    w = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(w, 0, None)).sum())


def feature_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of ``(N, F)`` features, in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise UsageError(f"features must be (N, F) with N >= 2, got shape {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """The Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂).

    >>> import numpy as np
    >>> frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2))
    0.0
    """
    mu1, mu2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    s1, s2 = np.asarray(sigma1, dtype=np.float64), np.asarray(sigma2, dtype=np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise UsageError(f"feature sizes differ: {mu1.shape} vs {mu2.shape}")
    d = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2))
    return max(d, 0.0)


def extract_features(feature, images, batch_size: int = 500, device=None) -> np.ndarray:
    """Run ``feature`` (a torch module) over ``images`` ``(N, 1, 28, 28)`` in batches; return ``(N, F)`` float64."""
    import torch

    x = torch.as_tensor(np.array(images) if isinstance(images, np.ndarray) else images)
    if device is None:
        try:
            device = next(feature.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
    was = feature.training
    feature.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            f = feature(x[i:i + batch_size].to(device, torch.float32))
            out.append(f.reshape(len(f), -1).double().cpu().numpy())
    feature.train(was)
    return np.concatenate(out)


def default_feature_extractor(dataset: str = "fashion-mnist", device=None):
    """The ``nn`` topic's trained classifier as a feature network (imported only when needed)."""
    try:
        from ..nn import feature_extractor  # type: ignore[attr-defined]
    except ImportError as e:
        raise FeatureExtractorMissing(
            "FID needs a feature network: kexue.nn.feature_extractor is not available in this install "
            f"({e}); pass feature=<a torch module mapping (N,1,28,28) images to (N,F) features>") from None
    return feature_extractor(dataset, device=device)


def fid(real_images, fake_images, feature=None, dataset: str = "fashion-mnist", batch_size: int = 500) -> float:
    """FID between two image sets ``(N, 1, 28, 28)`` in [0, 1] with ``feature`` (default: the nn classifier).

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 8))
    >>> x = torch.rand(200, 1, 28, 28)
    >>> fid(x, x, feature=net) < 1e-6  # identical sets (up to round-off)
    True
    """
    if feature is None:
        feature = default_feature_extractor(dataset)
    f1 = extract_features(feature, real_images, batch_size)
    f2 = extract_features(feature, fake_images, batch_size)
    return frechet_distance(*feature_stats(f1), *feature_stats(f2))
