"""The seam network learnt from the pieces themselves (features.learned_costs)."""

from __future__ import annotations

import numpy as np

from kexue.unshred import solver as S
from kexue.unshred.features import _net_seams, _patches, learned_costs, llr_costs
from kexue.unshred.synth import shred, text_page


def test_net_seams_equal_the_network_run_on_every_pair():
    """The fast scoring (rows blank on a side summed per piece, only rows inked on both sides
    per pair) gives what the network gives on each seam's own row windows, on two faces."""
    rng = np.random.default_rng(0)
    n, F, H, W, k, ky, hidden = 7, 2, 12, 10, 3, 5, 6
    x = rng.random((n, F, H, W)) * (rng.random((n, F, H, W)) < 0.2)
    x[2, :, :, -k:] = 0  # a blank right edge and a blank left edge
    x[4, :, :, :k] = 0
    x[:, 0, :4] = 0  # rows blank on every piece
    r = ky // 2
    xp = np.pad(x, ((0, 0), (0, 0), (r, r), (0, 0))).astype(np.float32)
    W1 = rng.standard_normal((2 * ky * k, hidden)).astype(np.float32)
    b1 = rng.standard_normal(hidden).astype(np.float32)
    w2 = rng.standard_normal(hidden).astype(np.float32)
    d = _net_seams(xp, (W1, b1, w2), k, ky)
    for i in range(n):
        for j in range(n):
            if i == j:
                assert d[i, j] == np.inf
                continue
            seam = np.concatenate([_patches(xp[i, ..., -k:], ky), _patches(xp[j, ..., :k], ky)], -1)
            want = -(np.maximum(seam @ W1 + b1, 0) @ w2).sum()
            assert abs(d[i, j] - want) < 1e-3 * (1 + abs(want)), (i, j)


def _page(seed: int = 3):
    return shred(text_page(480, 560, seed=seed, font_size=20), 4, 12, seed=seed)


def _right_neighbours(s):
    idx = {p: i for i, p in enumerate(s.pieces.ids)}
    return [(idx[a], idx[b]) for row in s.true_grid for a, b in zip(row[:-1], row[1:], strict=True)]


def test_learned_costs_find_true_neighbours_better_than_chance_and_deterministic():
    s = _page()
    x = s.pieces.ink
    d = learned_costs(x, samples=6000)
    assert np.array_equal(d, learned_costs(x, samples=6000))  # the same pieces, the same costs
    inked = [(a, b) for a, b in _right_neighbours(s) if (x[a, 0, :, -1] > 0.3).sum() >= 3]
    hits = np.mean([np.argmin(d[a]) == b for a, b in inked])
    llr = llr_costs(x)
    hits_llr = np.mean([np.argmin(llr[a]) == b for a, b in inked])
    assert len(inked) >= 20
    assert hits >= 0.85 and hits >= hits_llr - 0.1, (hits, hits_llr)


def test_network_seams_are_blended_in_on_one_sided_cross_cut_pages(monkeypatch):
    """Cross-cut one-sided pages blend the network's costs into both seam directions (the small
    network up to SMALL_PAGE pieces; on tall pieces the left-right seams only); strips and
    two-sided pages keep the pixel seams."""
    monkeypatch.setenv("KEXUE_JOBS", "1")  # the calls are counted in this process
    calls = []

    def fake(X, net=S.LEARN_NET):
        calls.append((X.shape, net))
        return np.ones((len(X), len(X)))

    monkeypatch.setattr(S, "_learned_norm", fake)
    page = text_page(480, 560, seed=3, font_size=20)
    s = shred(page, 4, 8, seed=3)  # pieces 60 x 140: top-bottom seams long enough
    S.solve(s.pieces, 4, 8)
    x = s.pieces.ink
    assert sorted(calls) == sorted([(x.shape, S.LEARN_NET_SMALL), (x.swapaxes(2, 3).shape, S.LEARN_NET_SMALL)])
    calls.clear()
    monkeypatch.setattr(S, "SMALL_PAGE", 10)
    S.solve(s.pieces, 4, 8)
    assert [net for _, net in calls] == [S.LEARN_NET] * 2
    calls.clear()
    tall = shred(page, 4, 12, seed=3).pieces  # 40 x 140: the left-right seams only
    S.solve(tall, 4, 12)
    assert calls == [(tall.ink.shape, S.LEARN_NET)]
    calls.clear()
    S.solve(shred(page, 1, 12, seed=3).pieces, 1, 12)
    S.solve(shred(page, 4, 8, seed=3, back=text_page(480, 560, seed=4, font_size=20)).pieces, 4, 8)
    assert calls == []  # strips and two-sided pages keep the pixel seams
