"""Figures for the CLI and the reproduce section (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    from kexue.utils import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format=path.suffix.lstrip(".") or "png", bbox_inches="tight")
    _plt().close(fig)
    return path


def plot_law(law, walk, path) -> Path:
    """The n-step law against its Gaussian (local CLT) limit: 1-D as points, 2-D/3-D as a slice."""
    from .law import gaussian_limit

    plt = _plt()
    g = gaussian_limit(law, walk)
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
    if law.pmf.ndim > 1:
        # slice through the origin of the other coordinates
        idx = tuple(-o for o in law.origin[1:])
        pmf = law.pmf[(slice(None),) + idx]
        gg = g[(slice(None),) + idx]
    else:
        pmf, gg = law.pmf, g
    x = law.positions(0)
    mask = pmf > 1e-300
    ax[0].plot(x[mask], pmf[mask], ".", ms=3, label="exact (FFT of phi^n)")
    ax[0].plot(x[mask], gg[mask], "-", lw=1, label="Gaussian limit")
    ax[0].set_xlabel("x" if law.pmf.ndim == 1 else "x (slice through the centre)")
    ax[0].set_ylabel("P(S_n = x)")
    ax[0].set_title(f"{walk.name} walk, d = {walk.dim}, n = {law.steps}")
    ax[0].legend(fontsize=8)
    ax[1].semilogy(x[mask], np.abs(pmf - gg)[mask] + 1e-300, ".", ms=2)
    ax[1].set_title("|exact - Gaussian|")
    ax[1].set_xlabel("x")
    return _save(fig, path)


def plot_ground_state(g, label, path) -> Path:
    """V(x) with the ground-state energy and |psi_0|^2."""
    from .potential import as_potential

    plt = _plt()
    V = as_potential(label)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    v = V(g.x)
    ax.plot(g.x, v, "k-", lw=1, label=f"V(x) = {label}")
    ax.axhline(g.energy, color="C1", lw=1, ls="--", label=f"E0 = {g.energy:.10f}")
    ax.plot(g.x, g.energy + g.psi**2, "C0", label="E0 + psi0^2")
    ax.set_ylim(min(v.min(), 0) - 0.2, g.energy + 2.5)
    ax.legend(fontsize=8)
    ax.set_xlabel("x")
    return _save(fig, path)
