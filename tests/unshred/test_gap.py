"""The blank-gap seam cost (features.gap_costs) on pieces cut through blank paper only."""

from __future__ import annotations

import numpy as np

from kexue.unshred import solver as S
from kexue.unshred.features import gap_costs, seam_costs


def _gapped_strips(n: int = 8, w: int = 24, h: int = 24, seed: int = 0) -> np.ndarray:
    """Strips of a page whose pixel rows hold strokes 2 px wide with gaps of 5-7 px, cut only
    inside gaps (two blank columns on either side of every cut, in every row): the pixel seam
    costs of any two inner edges tie at 0, only the widths of the gaps tell the true order."""
    rng = np.random.default_rng(seed)
    cuts = [k * w for k in range(1, n)]
    zone = np.zeros(n * w, bool)
    for c in cuts:
        zone[c - 2:c + 2] = True
    page = np.zeros((h, n * w))

    def fill(x: int, row: list) -> list | None:  # strokes from x on; a stroke never meets a cut zone
        if x + 2 > n * w:
            return row
        for g in rng.permutation([5, 6, 7]):
            for start in (x,) if row else range(x, x + 7):
                if start + 2 > n * w:
                    return row
                if zone[start:start + 2].any():
                    continue
                out = fill(start + 2 + int(g), row + [start])
                if out is not None:
                    return out
        return None

    for y in range(h):
        for s in fill(0, []):
            page[y, s:s + 2] = 1.0
    return np.stack([page[:, k * w:(k + 1) * w] for k in range(n)])[:, None]


def test_gap_costs_rank_true_neighbours_where_pixel_seams_tie(monkeypatch):
    monkeypatch.setattr(S, "GAP_LR", 0.25)
    monkeypatch.setattr(S, "GAP_TB", 0.25)
    x = _gapped_strips()
    n = x.shape[0]
    d = seam_costs(x)
    inner = d[:n - 1, 1:]  # right edges of pieces 0..n-2 against left edges of pieces 1..n-1
    assert np.all(inner[np.isfinite(inner)] == 0)  # pixel seams: every blank-edged pair ties
    g = gap_costs(x)
    assert [int(np.argmin(g[i, 1:])) + 1 for i in range(n - 1)] == list(range(1, n))
    # the solver's normalised seams: a tie without the gap term, the true neighbour first with it
    D = S._costs(x, [], [], [], [], gap=True)[2]
    assert [int(np.argmin(D[i, 1:])) + 1 for i in range(n - 1)] == list(range(1, n))
    D_plain = S._costs(x, [], [], [], [], gap=False)[2]
    assert np.ptp(D_plain[:n - 1, 1:][np.isfinite(D_plain[:n - 1, 1:])]) < 1e-9
