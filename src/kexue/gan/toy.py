"""The 2-D toy: a ring of 8 Gaussians, and the metrics that say how many modes a generator covers.

The usual set-up of the mode-collapse literature (unrolled GAN, VEEGAN, PacGAN): 8 Gaussians of
standard deviation ``std`` on a circle of radius 2. A sample is *high quality* when it lies
within ``3·std`` of a mode; a mode is *covered* when at least ``min_share`` of its fair share
(N/8) of the samples are high-quality samples at it.

>>> x = sample_ring(4000, seed=0)
>>> m = mode_metrics(x)
>>> m["modes_covered"], m["high_quality"] > 0.98
(8, True)
"""

from __future__ import annotations

import numpy as np

RADIUS = 2.0
STD = 0.02
N_MODES = 8


def ring_centers(n_modes: int = N_MODES, radius: float = RADIUS) -> np.ndarray:
    """The ``(n_modes, 2)`` centres, evenly spaced on the circle, the first at angle 0.

    >>> ring_centers(4).round(6).tolist()
    [[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [-0.0, -2.0]]
    """
    a = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(a), np.sin(a)], axis=1)


def sample_ring(n: int, seed: int | np.random.Generator | None = 0, n_modes: int = N_MODES,
                radius: float = RADIUS, std: float = STD) -> np.ndarray:
    """``n`` samples (float32, ``(n, 2)``) of the ring of Gaussians; the same seed gives the same samples.

    >>> sample_ring(3, seed=1).shape
    (3, 2)
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    k = rng.integers(0, n_modes, size=n)
    return (ring_centers(n_modes, radius)[k] + std * rng.standard_normal((n, 2))).astype(np.float32)


def mode_metrics(samples, n_modes: int = N_MODES, radius: float = RADIUS, std: float = STD,
                 min_share: float = 0.2) -> dict:
    """Modes covered, share of high-quality samples, and the samples per mode.

    Also the KL divergence of the mode histogram (high-quality samples only) from uniform, in
    nats (0 when every covered mode has the same share).

    >>> mode_metrics(np.zeros((10, 2)))["modes_covered"]  # everything at the centre: nothing covered
    0
    """
    x = np.asarray(samples, dtype=float)
    c = ring_centers(n_modes, radius)
    dist = np.linalg.norm(x[:, None, :] - c[None, :, :], axis=2)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(x)), nearest] <= 3 * std
    counts = np.bincount(nearest[good], minlength=n_modes)
    covered = int(np.sum(counts >= min_share * len(x) / n_modes)) if len(x) else 0
    hist = counts / counts.sum() if counts.sum() else np.full(n_modes, 1 / n_modes)
    nz = hist > 0
    kl = float(np.sum(hist[nz] * np.log(hist[nz] * n_modes)))
    return {"modes_covered": covered, "high_quality": float(good.mean()) if len(x) else 0.0,
            "per_mode": counts.tolist(), "mode_kl": kl}
