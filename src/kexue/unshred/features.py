"""Seam costs and text-line features of pieces (all vectorised with numpy).

* :func:`seam_costs` — prediction-based dissimilarity of two touching edges (Pomeranz et al.):
  each piece's last two pixel columns extrapolate the first column of its neighbour and vice
  versa; the squared prediction errors are summed. Computed for all pairs at once with one
  matrix product, so 1,000 pieces cost a fraction of a second.
* :func:`llr_costs` — a seam likelihood learnt from the pieces themselves: every pair of
  neighbouring pixel columns inside a piece is an example of a true seam, so the conditional law
  of a column given the two before it (grey levels quantised, three pixels of context) is
  counted over all interiors; a seam's cost is minus the log-likelihood ratio of the neighbour's
  edge against the page's overall grey levels. It adapts to the font, the script and the noise.
* :func:`ink_rows` — which pixel rows of a piece carry ink: pieces of the same text row share
  the positions of their text lines (the row's "bands").
* :func:`blank_widths` — how many blank pixel columns/rows a piece has at each edge: pieces of
  the first column show the page's left margin, and so on.
"""

from __future__ import annotations

import numpy as np

INK = 0.3  # a pixel is ink when darker than this (0 = white, 1 = black); robust to grey noise


def _run_damped(rows_cost, height: int, damp: float, pairs) -> np.ndarray:
    """``sum_y e_y - damp * sum_y min(e_y, e_(y-1))`` for every pair: ``rows_cost(ic)`` gives the
    per-pixel-row costs ``e`` (chunk of first pieces, n, rows) of the pieces ``ic``; ``rows`` are
    ``faces * height`` and no run crosses from one face to the next."""
    n, rows = pairs
    out = np.empty((n, n))
    step = max(1, int(4_000_000 // max(1, n * rows)))
    keep = np.ones(max(rows - 1, 0))
    keep[height - 1::height] = 0.0  # the last row of a face and the first of the next
    for a in range(0, n, step):
        e = rows_cost(np.arange(a, min(n, a + step)))
        out[a:a + step] = e.sum(-1) - damp * (np.minimum(e[..., 1:], e[..., :-1]) @ keep)
    return out


def seam_costs(ink: np.ndarray, damp: float = 0.0) -> np.ndarray:
    """``D[i, j]``: cost of putting piece ``j`` immediately right of piece ``i``.

    ``ink`` has shape ``(n, faces, H, W)``; the cost is summed over faces. Prediction-based:
    ``(2 R1_i - R2_i - L1_j)^2 + (2 L1_j - L2_j - R1_i)^2`` summed over the seam, where R1/R2 are
    the last two columns of ``i`` and L1/L2 the first two of ``j``. The diagonal is ``inf``.
    For the top-bottom seams, pass ``ink.swapaxes(2, 3)``. ``damp`` (0-1): a pixel row that
    continues the error of the row above costs ``1 - damp`` of what the two share, so a run of
    rows counts as about one event (a glyph's stem whose edge lies exactly on the cut costs as
    much as a short mismatch, not as much as its height in mismatches).

    >>> y, x = np.mgrid[0:6, 0:8]
    >>> a = (np.sin(x / 3 + y) + 1)[None, None] / 2   # a smooth picture
    >>> pieces = np.concatenate([a[..., :4], a[..., 4:]])   # a cut into a left and a right half
    >>> d = seam_costs(pieces)
    >>> bool(d[0, 1] < 0.1 * d[1, 0])
    True
    """
    n = ink.shape[0]
    x = ink.astype(np.float64).reshape(n, -1, ink.shape[3]) if ink.ndim == 4 else ink
    r1, r2, l1, l2 = x[:, :, -1], x[:, :, -2], x[:, :, 0], x[:, :, 1]
    pr = 2 * r1 - r2  # prediction of the right neighbour's first column
    pl = 2 * l1 - l2  # prediction of the left neighbour's last column
    if damp:
        def rows_cost(ic):
            return (pr[ic, None] - l1[None]) ** 2 + (pl[None] - r1[ic, None]) ** 2

        d = _run_damped(rows_cost, ink.shape[-2] if ink.ndim == 4 else x.shape[1], damp, (n, x.shape[1]))
        d = np.maximum(d, 0.0)
        np.fill_diagonal(d, np.inf)
        return d
    d = ((pr * pr).sum(1)[:, None] + (l1 * l1).sum(1)[None] - 2 * pr @ l1.T
         + (pl * pl).sum(1)[None] + (r1 * r1).sum(1)[:, None] - 2 * r1 @ pl.T)
    d = np.maximum(d, 0.0)
    np.fill_diagonal(d, np.inf)
    return d


LEVELS = (0.15, 0.5, 0.85)  # grey-level bin edges of the likelihood model (4 levels)


def llr_costs(ink: np.ndarray, edges=LEVELS, alpha: float = 1.0, damp: float = 0.0) -> np.ndarray:
    """``D[i, j]``: cost of putting piece ``j`` immediately right of piece ``i``, as minus the
    log-likelihood ratio of the seam under a model learnt from the pieces' own interiors: the
    level of a pixel given the three pixels beside it (above, level, below) in the column before
    it and the one pixel two columns before, both ways across the seam. Lower is better (blank
    against blank is about 0, matching strokes are negative); the diagonal is ``inf``. ``ink``
    has shape ``(n, faces, H, W)``; for top-bottom seams pass ``ink.swapaxes(2, 3)``. ``damp``: runs
    of pixel rows count as about one event, as in :func:`seam_costs`.

    >>> from kexue.unshred.synth import text_page
    >>> page = 1 - text_page(240, 200, seed=0) / 255
    >>> strips = np.stack([page[:, 40 * k:40 * k + 40] for k in range(6)])[:, None]
    >>> d = llr_costs(strips)
    >>> [int(np.argmin(d[i])) for i in range(5)]
    [1, 2, 3, 4, 5]
    """
    n = ink.shape[0]
    x = ink.reshape(n, -1, ink.shape[-1])  # (n, faces * H, W)
    K = len(edges) + 1
    q = np.zeros(x.shape, dtype=np.uint8)
    for e in edges:  # grey level -> bin (faster than np.digitize)
        q += x >= e
    W = q.shape[2]
    # each pixel's vertical context: the levels above it, its own and below it (0 beyond the
    # piece's rows), one number < K**3; small integer types keep the big arrays small
    v = q * np.uint8(K)
    v[:, 1:] += q[:, :-1] * np.uint8(K * K)
    v[:, :-1] += q[:, 1:]

    def ctx_of(j: int, j2: int) -> np.ndarray:
        # the context of the pixels next to column j (on the side away from column j2)
        return v[:, :, j].astype(np.intp) * K + q[:, :, j2]

    counts = np.full((K ** 4) * K, alpha)
    if W >= 3:  # interiors, left to right and right to left, all columns at once
        mid = v[:, :, 1:-1].astype(np.int16) * K
        c = (mid + q[:, :, :-2]) * K + q[:, :, 2:]
        counts += np.bincount(c.ravel(), minlength=counts.size)
        c = (mid + q[:, :, 2:]) * K + q[:, :, :-2]
        counts += np.bincount(c.ravel(), minlength=counts.size)
    counts = counts.reshape(K ** 4, K)
    lp = np.log(counts / counts.sum(1, keepdims=True)) - np.log(counts.sum(0) / counts.sum())[None]
    hh = q.shape[1]
    eye = np.eye(K)
    c2 = 1 if W >= 2 else 0
    a_r = lp[ctx_of(-1, -1 - c2)].reshape(n, hh * K)  # i's right edge predicts
    b_l = eye[q[:, :, 0]].reshape(n, hh * K)          # j's first column
    a_l = lp[ctx_of(0, c2)].reshape(n, hh * K)        # j's left edge predicts
    b_r = eye[q[:, :, -1]].reshape(n, hh * K)         # i's last column
    if damp:
        base = np.arange(hh) * K
        fl = base[None] + q[:, :, 0]   # where j's first column reads i's prediction
        fr = base[None] + q[:, :, -1]  # where i's last column reads j's prediction

        def rows_cost(ic):
            return -(a_r[ic][:, fl] + a_l[:, fr[ic]].swapaxes(0, 1))

        d = _run_damped(rows_cost, ink.shape[-2] if ink.ndim == 4 else hh, damp, (n, hh))
    else:
        d = -(a_r @ b_l.T + b_r @ a_l.T)
    np.fill_diagonal(d, np.inf)
    return d


def ink_rows(ink: np.ndarray) -> np.ndarray:
    """Boolean ``(n, faces, H)``: does pixel row ``y`` of the piece hold any ink pixel?

    >>> x = np.zeros((1, 1, 5, 4)); x[0, 0, 2, 1] = 1
    >>> ink_rows(x)[0, 0].astype(int).tolist()
    [0, 0, 1, 0, 0]
    """
    return (ink > INK).any(axis=3)


def blank_widths(ink: np.ndarray) -> dict[str, np.ndarray]:
    """Blank columns at the left/right and blank rows at the top/bottom of each piece, per face:
    arrays of shape ``(n, faces)``; a fully blank edge region counts as the full size.

    >>> x = np.zeros((1, 1, 4, 6)); x[0, 0, 1, 2:4] = 1
    >>> {k: int(v[0, 0]) for k, v in blank_widths(x).items()}
    {'left': 2, 'right': 2, 'top': 1, 'bottom': 2}
    """
    mask = ink > INK
    cols = mask.any(axis=2)  # (n, f, W)
    rows = mask.any(axis=3)  # (n, f, H)

    def lead(m: np.ndarray) -> np.ndarray:
        size = m.shape[-1]
        return np.where(m.any(-1), m.argmax(-1), size)

    return {"left": lead(cols), "right": lead(cols[..., ::-1]), "top": lead(rows), "bottom": lead(rows[..., ::-1])}


def line_pitch(profile: np.ndarray, lo: int = 6) -> int | None:
    """The text-line pitch (pixels) of a long ink-row profile, from its autocorrelation; ``None``
    when no clear period shows.

    >>> prof = np.tile([1] * 12 + [0] * 8, 20).astype(float)
    >>> line_pitch(prof)
    20
    """
    x = np.asarray(profile, dtype=float)
    x = x - x.mean()
    if not np.any(x):
        return None
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    ac = ac / ac[0]
    hi = n // 3
    if hi <= lo + 2:
        return None
    seg = ac[lo:hi]
    # first local maximum that is near the global maximum of the range
    peaks = [k for k in range(1, len(seg) - 1) if seg[k] >= seg[k - 1] and seg[k] >= seg[k + 1]]
    if not peaks:
        return None
    best = max(seg[k] for k in peaks)
    if best < 0.2:
        return None
    k = next(k for k in peaks if seg[k] >= 0.8 * best)
    return int(k + lo)


def denoise(ink: np.ndarray) -> np.ndarray:
    """Remove scanner-like grey noise from the paper: estimate the noise level from the
    near-white pixels and subtract three times it (clean pages come back unchanged).

    >>> rng = np.random.default_rng(0)
    >>> noisy = np.clip(rng.normal(0, 0.04, (2, 1, 50, 40)), 0, 1)
    >>> float(denoise(noisy).max()) < 0.1, bool((denoise(np.zeros((1, 1, 5, 5))) == 0).all())
    (True, True)
    """
    x = np.asarray(ink, dtype=np.float32)
    t = min(3.0 * noise_level(x), 0.25)
    if t < 0.01:
        return x
    return np.clip((x - t) / (1.0 - t), 0.0, 1.0)


def noise_level(ink: np.ndarray) -> float:
    """The standard deviation of grey noise on the paper (ink units, 0 for a clean scan), from
    the 90th percentile of the near-white pixels.

    >>> rng = np.random.default_rng(0)
    >>> round(noise_level(np.abs(rng.normal(0, 0.04, (1, 1, 50, 40)))), 2), noise_level(np.zeros((1, 1, 4, 4)))
    (0.05, 0.0)
    """
    x = np.asarray(ink, dtype=np.float32)
    low = x[x < INK]
    if low.size == 0:
        return 0.0
    return float(np.quantile(low, 0.9)) / 1.28


def _edge_runs(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per piece and pixel row (faces stacked): blank pixels before the first ink (``lead``) and
    after the last (``trail``), the row width where the row is blank; and the lengths of all
    blank runs between two ink pixels of a row inside the pieces (the gaps the text really has)."""
    n = ink.shape[0]
    m = (ink > INK).reshape(n, -1, ink.shape[-1])
    W = m.shape[-1]
    has = m.any(-1)
    lead = np.where(has, m.argmax(-1), W)
    trail = np.where(has, m[..., ::-1].argmax(-1), W)
    # interior runs: for every ink pixel, the distance to the next ink pixel of its row
    idx = np.where(m, np.arange(W), W)
    nxt = np.minimum.accumulate(idx[..., ::-1], axis=-1)[..., ::-1]  # next ink at or after x
    after = np.concatenate([nxt[..., 1:], np.full(nxt.shape[:-1] + (1,), W)], axis=-1)
    gap = (after - np.arange(W) - 1)[m & (after < W)]
    return lead, trail, gap[gap > 0]


def gap_costs(ink: np.ndarray, damp: float = 0.0, alpha: float = 1.0, center: bool = False) -> np.ndarray:
    """``D[i, j]``: minus the log-likelihood ratio of the blank gaps that putting piece ``j`` right
    of piece ``i`` makes in each pixel row (blank pixels after ``i``'s last ink plus those before
    ``j``'s first), against the gaps of two pieces put together at random. The law of true gaps
    is counted from the blank runs between ink pixels inside the pieces (letter and word gaps,
    glyph counters). Rows where either piece has no ink, or where ink meets ink at the cut, say
    nothing (0): those are for the pixel seam costs. A cut through a blank gap in every text line
    costs all blank-edged pairs alike under pixel seam costs; their gaps still differ (a letter
    gap plus a word gap's half is neither). ``ink``: ``(n, faces, H, W)``; for top-bottom seams
    pass ``ink.swapaxes(2, 3)``; ``damp`` as in :func:`seam_costs`.

    >>> x = np.zeros((3, 1, 1, 10)); x[:, 0, 0, [4, 5]] = 1    # one ink pixel pair per piece ...
    >>> x[0, 0, 0, 9] = 1; x[1, 0, 0, 0] = 1    # ... 0 ends next to the cut, 1 starts at it
    >>> d = gap_costs(np.concatenate([x] * 4))
    >>> bool(d[0, 1] < d[2, 2 + 3])
    True
    """
    n = ink.shape[0]
    lead, trail, gap = _edge_runs(ink)
    W = ink.shape[-1]
    L = 2 * W + 1
    g = np.arange(L)
    # a gap of length g fits inside a piece at W - 1 - g places, and a cut falls into it at g + 1
    # places: the gaps seen across true cuts are the interior ones reweighted by that ratio
    fit = np.maximum(W - 1 - g, 0)
    p_in = (np.bincount(np.minimum(gap, L - 1), minlength=L) + alpha) * (g + 1) / np.maximum(fit, 1)
    p_in = np.where(fit > 0, p_in, 0.0)
    p_in = p_in / p_in.sum()
    hl = np.bincount(lead[lead < W], minlength=W)[:W].astype(float)
    ht = np.bincount(trail[trail < W], minlength=W)[:W].astype(float)
    p_ref = np.convolve(ht / max(ht.sum(), 1), hl / max(hl.sum(), 1))
    p_ref = np.pad(p_ref, (0, L - len(p_ref)))
    known = (fit > 0) & (g > 0)
    p_ref = p_ref / max(p_ref[known].sum(), 1e-12)
    p_in = p_in / max(p_in[known].sum(), 1e-12)
    score = np.where(known, np.log(np.maximum(p_in, 1e-12)) - np.log(np.maximum(p_ref, 1e-12)), 0.0)
    if center:  # a random pair's row costs 0 on average, as a row that says nothing does
        score = np.where(known, score - float((p_ref * score)[known].sum()), 0.0)
    score = np.append(score, 0.0)  # index L: a blank row on either side
    hh = lead.shape[1]

    def rows_cost(ic):
        s = trail[ic][:, None, :] + lead[None, :, :]
        s = np.where((trail[ic][:, None, :] >= W) | (lead[None, :, :] >= W), L, np.minimum(s, L - 1))
        return -score[s]

    if damp:
        d = _run_damped(rows_cost, ink.shape[-2] if ink.ndim == 4 else hh, damp, (n, hh))
    else:
        d = np.empty((n, n))
        step = max(1, int(4_000_000 // max(1, n * hh)))
        for a in range(0, n, step):
            d[a:a + step] = rows_cost(np.arange(a, min(n, a + step))).sum(-1)
    np.fill_diagonal(d, np.inf)
    return d
