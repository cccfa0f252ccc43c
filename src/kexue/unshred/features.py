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
* :func:`learned_costs` — a seam score from a small network (one hidden layer over windows of
  7 pixel rows by 4 columns either side of the cut) trained on each page's own pieces: splits of
  their interiors are the true seams, the same halves beside other splits (of pieces whose text
  lines lie at the same heights, mostly) the false ones. It learns the script's stroke shapes
  across a cut; every pair is then scored exactly, at the cost of the rows inked on both sides.
* :func:`ink_rows` — which pixel rows of a piece carry ink: pieces of the same text row share
  the positions of their text lines (the row's "bands").
* :func:`blank_pieces` — which pieces carry no ink at all.
* :func:`blank_widths` — how many blank pixel columns/rows a piece has at each edge: pieces of
  the first column show the page's left margin, and so on.
"""

from __future__ import annotations

import numpy as np

INK = 0.3  # a pixel is ink when darker than this (0 = white, 1 = black); robust to grey noise
BLANK = 0.05  # learned_costs: lighter than this is paper


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


def blank_pieces(ink: np.ndarray) -> np.ndarray:
    """Boolean ``(n,)``: pieces without a single ink pixel on any face (all alike: blank paper).

    >>> x = np.zeros((2, 1, 3, 3)); x[1, 0, 1, 1] = 1
    >>> blank_pieces(x).tolist()
    [True, False]
    """
    return ~(ink > INK).any(axis=(1, 2, 3))


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


def _patches(xp: np.ndarray, ky: int) -> np.ndarray:
    """Every pixel row's window of ``ky`` rows (``xp`` padded by ``ky // 2`` blank rows top and
    bottom): ``(..., H + ky - 1, w)`` -> ``(..., H, ky * w)``."""
    win = np.lib.stride_tricks.sliding_window_view(xp, ky, axis=-2)  # (..., H, w, ky)
    return win.swapaxes(-1, -2).reshape(win.shape[:-2] + (-1,))


def learned_costs(ink: np.ndarray, k: int = 4, ky: int = 7,
                  hidden: int = 64, samples: int = 16000, crop: int = 16, epochs: int = 4,
                  seed: int = 0) -> np.ndarray:
    """``D[i, j]``: minus the log-odds that piece ``j`` lies right of piece ``i``, from a small
    network trained on the pieces themselves. Every split of a piece's interior between two pixel
    columns is an example of a true seam; the same left half beside the right half of another
    split (of a random piece, or of one whose text lines lie at the same heights: the hard case)
    is an example of a false one. The network scores each pixel row from the ``ky`` x ``2k``
    window around it (one hidden layer of ``hidden`` rectified units) and a seam's log-odds is the
    sum over its rows, trained by logistic regression. It sees the shapes of the script's strokes
    across the cut, where the pixel seam costs see three pixels. Every pair is scored exactly;
    only rows inked on both sides of a seam cost a pair's work. ``ink``: ``(n, faces, H, W)``
    (below ``BLANK`` is paper); for top-bottom seams pass ``ink.swapaxes(2, 3)``. Deterministic
    for a given ``seed``.

    >>> from kexue.unshred.synth import text_page
    >>> page = 1 - text_page(400, 300, seed=1) / 255
    >>> strips = np.stack([page[:, 40 * k:40 * k + 40] for k in range(10)])[:, None]
    >>> d = learned_costs(strips, samples=4000)
    >>> [int(np.argmin(d[i])) for i in range(9)]
    [1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    n, F, H, W = ink.shape
    if W < 2 * k + 1 or n < 3:
        return np.where(np.eye(n, dtype=bool), np.inf, 0.0)
    x = np.where(ink > BLANK, ink, 0).astype(np.float32)
    inked_px = x > INK
    r = ky // 2
    xp = np.pad(x, ((0, 0), (0, 0), (r, r), (0, 0)))
    rng = np.random.default_rng(seed)
    hc = min(crop, H)
    # pieces whose text lines lie at the same heights: the hard false seams
    prof = inked_px.mean(-1).reshape(n, -1)
    prof = prof - prof.mean(1, keepdims=True)
    prof /= np.linalg.norm(prof, axis=1, keepdims=True) + 1e-9
    sim = prof @ prof.T
    np.fill_diagonal(sim, -np.inf)
    near = np.argsort(-sim, axis=1)[:, :8]
    sat = np.zeros((n, F, H + 1, W + 1), dtype=np.int32)  # ink pixels above and left of (y, x)
    sat[:, :, 1:, 1:] = inked_px.cumsum(2).cumsum(3)

    def area(i, f, y0, x0):  # ink pixels in rows y0 .. y0 + hc - 1, columns x0 .. x0 + k - 1
        y1, x1 = y0 + hc, x0 + k
        return sat[i, f, y1, x1] - sat[i, f, y0, x1] - sat[i, f, y1, x0] + sat[i, f, y0, x0]

    def seam(i, j, f, y0, xl, xr):  # (m, hc, 2 ky k): row windows of i left of xl beside j from xr
        rows = (y0[:, None] + np.arange(hc + 2 * r)[None])[:, :, None]
        left = xp[i[:, None, None], f[:, None, None], rows, (xl[:, None] + np.arange(-k, 0))[:, None, :]]
        right = xp[j[:, None, None], f[:, None, None], rows, (xr[:, None] + np.arange(k))[:, None, :]]
        return np.concatenate([_patches(left, ky), _patches(right, ky)], -1)

    def draw(m):  # m examples each of true and false seams, with ink near the cut
        i, f = rng.integers(0, n, 3 * m), rng.integers(0, F, 3 * m)
        y0, xs = rng.integers(0, H - hc + 1, 3 * m), rng.integers(k, W - k + 1, 3 * m)
        j = np.where(rng.random(3 * m) < 0.5, near[i, rng.integers(0, near.shape[1], 3 * m)],
                     rng.integers(0, n, 3 * m))
        x2 = rng.integers(k, W - k + 1, 3 * m)
        same = (j == i) & (np.abs(x2 - xs) < 3)
        x2[same] = (x2[same] + W // 2) % (W - 2 * k + 1) + k
        # ink beside the cut, in the crop (counted on a summed-area table before any gathering)
        inked = (area(i, f, y0, xs - k) > 0) | (area(i, f, y0, xs) > 0)
        a = np.flatnonzero(inked)[:m]
        b = np.flatnonzero(inked | (area(j, f, y0, x2) > 0))[:m]
        pos = seam(i[a], i[a], f[a], y0[a], xs[a], xs[a])
        neg = seam(i[b], j[b], f[b], y0[b], xs[b], x2[b])
        return np.concatenate([pos, neg]), np.r_[np.ones(len(a)), np.zeros(len(b))]

    P, lab = draw(samples)
    d_in = P.shape[-1]
    W1 = (rng.standard_normal((d_in, hidden)) * np.sqrt(2.0 / d_in)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = (rng.standard_normal(hidden) * 0.01).astype(np.float32)
    b2 = np.zeros(1, np.float32)
    params = [W1, b1, w2, b2]
    mom = [np.zeros_like(p) for p in params]
    vel = [np.zeros_like(p) for p in params]
    lr, beta1, beta2, step = 3e-3, 0.9, 0.999, 0
    bs = 256
    for _ in range(epochs):
        order = rng.permutation(len(P))
        for s0 in range(0, len(P), bs):
            b = order[s0:s0 + bs]
            p, y = P[b], lab[b]
            pre = p @ W1 + b1                       # (m, hc, hidden)
            h = np.maximum(pre, 0)
            z = (h @ w2).sum(1) + b2[0]             # (m,)
            g = (1 / (1 + np.exp(-np.clip(z, -30, 30))) - y) / len(b)   # d loss / d z
            gt = np.repeat(g.astype(np.float32), p.shape[1])     # d loss / d (row score)
            h2 = h.reshape(-1, hidden)
            gh = (gt[:, None] * w2[None, :]) * (h2 > 0)
            grads = [p.reshape(-1, d_in).T @ gh, gh.sum(0), gt @ h2, np.array([g.sum()], np.float32)]
            step += 1
            for q, gq, mq, vq in zip(params, grads, mom, vel, strict=True):
                mq *= beta1
                mq += (1 - beta1) * gq
                vq *= beta2
                vq += (1 - beta2) * gq * gq
                q -= (lr * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step) * mq / (np.sqrt(vq) + 1e-8)).astype(q.dtype)
    return _net_seams(xp, (W1, b1, w2), k, ky)


def _net_seams(xp: np.ndarray, net, k: int, ky: int) -> np.ndarray:
    """``D[i, j]`` of :func:`learned_costs` from the trained network ``net = (W1, b1, w2)``;
    ``xp``: the pieces padded by ``ky // 2`` blank rows top and bottom."""
    W1, b1, w2 = net
    n, F, hp, _ = xp.shape
    H, hidden = hp - 2 * (ky // 2), W1.shape[1]
    # every pair exactly: the first layer splits into i's right edge (A) and j's left edge
    # (B, with the bias); a row whose window is blank on a side has 0 there, so only the rows
    # inked on both sides need the pair (few), the others are sums over one piece (products)
    pa, pb = _patches(xp[..., -k:], ky), _patches(xp[..., :k], ky)  # i's right edge, j's left edge
    A = (pa @ W1[:ky * k]).reshape(n, F * H, hidden)
    Bq = (pb @ W1[ky * k:]).reshape(n, F * H, hidden)
    ma = (pa > 0).any(-1).reshape(n, F * H)  # i's window has ink at row y
    mb = (pb > 0).any(-1).reshape(n, F * H)
    u = np.maximum(A + b1, 0) @ w2             # rows inked on i's side only
    v = np.maximum(Bq + b1, 0) @ w2            # ... on j's side only
    c0 = float(np.maximum(b1, 0) @ w2)         # blank on both sides
    fa, fb = ma.astype(np.float32), mb.astype(np.float32)
    logit = (u * fa) @ (1 - fb).T + (1 - fa) @ (v * fb).T + c0 * ((1 - fa) @ (1 - fb).T)
    for y in range(F * H):
        si, sj = np.flatnonzero(ma[:, y]), np.flatnonzero(mb[:, y])
        if si.size and sj.size:
            logit[np.ix_(si, sj)] += np.maximum(A[si, y][:, None] + (Bq[sj, y] + b1)[None], 0) @ w2
    d = -logit.astype(float)
    np.fill_diagonal(d, np.inf)
    return d
