"""Two-sided pages: which rows (and pieces) lie on which page, and in which order.

A row of two-sided pieces turned over (every piece's faces swap pages, the row's order reverses)
is a valid strip of the *other* page. Where the cut above and below a block of rows runs through
blank paper on both faces, and both pages share one line grid, turning the block over (or moving
it to another blank cut of the same line phase) changes no seam at all: the seam energy has
exact ties (measured: every failure of 8 two-sided 11 x 19 test pages was such a tie). What
still tells the pages apart is the *text*: across a blank cut the last text line above and the
first one below are consecutive lines of one page, so

* a paragraph ends on the line above (a short line) exactly when the line below starts one (an
  indented line): the typesetting rule of printed paragraphs, English and Chinese alike;
* the two lines are one line pitch apart on that page (its own pitch and phase; a phase that is
  off by less than ``PHASE_DEAD`` of the pitch counts as kept: a row's measured phase jitters by
  that much with the glyphs' tops, so such a difference is no evidence);

and all rows of one page are set in one type style (:func:`style`: stroke and letter run
lengths), which splits the rows in two when the pages use different typefaces or sizes and is
silent when they do not (``STYLE_GATE``: under scanner noise the rows of pages set alike spread
apart by chance, and a split of them into two "styles" would turn rows at random); the same holds
for the text margins (:func:`margins`: a book's inner and outer margins alternate between the
faces of a leaf, and a page from another document has its own).

:func:`turn_segments` first turns over runs of pieces inside rows (bands of 1-3 rows alike)
where the page energy drops: pieces whose faces went to the wrong pages at the start. Then
:func:`arrange_blocks` cuts the page into blocks at every cut (on tall pages at the least certain
ones, blank cuts first) and re-orders and turns the blocks by an exact shortest path over
(block, orientation) nodes on the top-bottom seams plus these text cues; the current arrangement
wins every tie. Blocks whose every boundary is silent (no paragraph break, one style, one line
grid) stay as they were: pixels cannot tell their side.
"""

from __future__ import annotations

import numpy as np

from .features import INK, blank_widths
from .paths import held_karp

KAPPA_PARA = 0.25  # cost (per column of pieces) of a paragraph mismatch across a blank cut, per page
KAPPA_PITCH = 0.25  # cost (per column) of two lines half a pitch off their page's line pitch, per page
TIE = 1e-3  # bonus (per column) of the current neighbours: ties keep the current arrangement
KAPPA_PHASE = 0.1  # cost (per column, per pixel) of line phase broken across a cut, per page (as NU_PHASE)
PHASE_DEAD = 0.065  # ... beyond this share of the pitch: the jitter of a row's measured phase (glyph tops,
# noise; Chinese rows of 11 x 19 pages: up to 3-4 px of a 48-54 px pitch on the true page)
KAPPA_STYLE = 1.0  # cost (per column) of a row whose type style fits the other page, per unit of ...
STYLE_DEAD = 0.1  # ... L1 distance of run-length histograms beyond this (same typeface: below 0.05)
STYLE_CLIP = 1.0  # ... and at most this (different typefaces: 0.3-3)
STYLE_GATE = 2.0  # silent unless the two pages' styles lie this many times the rows' spread apart
KAPPA_MARGIN = 1.0  # the same for rows whose text margins fit the other page (per line height, as the style)
MAX_BLOCKS = 12  # exact search over blocks up to this many (2^B states)
BAND_HEIGHTS = (1, 2, 3)  # rows turned alike by turn_segments
CUTS = "all"  # blocks end at every cut (at most MAX_BLOCKS blocks: the least certain cuts), or "blank"
EDGE_INK = 1  # ink pixels per piece width tolerated on a blank cut's edge rows (noise specks)


def text_lines(strip: np.ndarray, gap: int = 2) -> list[tuple[int, int, int, int, bool]]:
    """The text lines of a horizontal strip (ink units, shape ``(H, W)``): runs of pixel rows that
    hold ink, runs less than ``gap`` rows apart merged, as ``(y0, y1, x0, x1, complete)`` (rows
    ``y0 <= y < y1``, first and last ink column, and whether the line stays clear of the strip's
    top and bottom edge, i.e. was not cut).

    >>> s = np.zeros((20, 30)); s[3:7, 5:25] = 1; s[12:20, 2:9] = 1
    >>> text_lines(s)
    [(3, 7, 5, 24, True), (12, 20, 2, 8, False)]
    """
    ink = strip > INK
    prof = ink.any(1)
    H = len(prof)
    d = np.diff(np.concatenate([[0], prof.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    runs: list[list[int]] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if runs and a - runs[-1][1] <= gap:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    out = []
    for y0, y1 in runs:
        xs = np.flatnonzero(ink[y0:y1].any(0))
        out.append((int(y0), int(y1), int(xs[0]), int(xs[-1]), bool(y0 > 0 and y1 < H)))
    return out


def _row_strip(X: np.ndarray, row: np.ndarray, face: int) -> np.ndarray:
    """Face ``face`` of a row of pieces as one strip, read as its page is read (face 1 holds the
    other page mirrored, so it is mirrored back)."""
    s = np.concatenate(list(X[row, face]), axis=1)
    return s[:, ::-1] if face == 1 else s


def _page_stats(lines_by_row: list[list[tuple]]) -> tuple[float, float, float, float | None]:
    """Left and right text margin, line height and line pitch of one page from its complete
    lines (medians: most lines are full, unindented, and follow each other at the pitch)."""
    full = [ln for lines in lines_by_row for ln in lines if ln[4]]
    if len(full) < 3:
        return 0.0, 0.0, 0.0, None
    x0 = np.median([ln[2] for ln in full])
    x1 = np.median([ln[3] for ln in full])
    h = float(np.median([ln[1] - ln[0] for ln in full]))
    steps = [b[0] - a[0] for lines in lines_by_row
             for a, b in zip(lines[:-1], lines[1:], strict=True) if a[4] and b[4]]
    pitch = float(np.median(steps)) if steps else None
    return float(x0), float(x1), max(h, 1.0), pitch


def _ramp(x: float) -> float:
    """0 below 0.8 line heights, 1 above 1.2 (indents and paragraph ends are 2-3 line heights;
    a full line ending in a punctuation mark falls short by about half a line height)."""
    return float(np.clip((x - 0.8) / 0.4, 0.0, 1.0))


def _row_figures(lines: list[tuple], stats: tuple) -> tuple[float, float | None]:
    """Line height and pitch of one row from its own complete lines (the pages' figures mix both
    pages while rows are still turned wrongly), else its page's (``stats`` of :func:`_page_stats`)."""
    full = [ln for ln in lines if ln[4]]
    h = float(np.median([ln[1] - ln[0] for ln in full])) if full else stats[2]
    steps = [b[0] - a[0] for a, b in zip(lines[:-1], lines[1:], strict=True) if a[4] and b[4]]
    return max(h, 1.0), float(np.median(steps)) if steps else stats[3]


def _phase(lines: list[tuple], pitch: float) -> float | None:
    """Circular mean (mod pitch) of where a row's lines start (lines cut at the top edge have no
    start)."""
    st = np.array([ln[0] for ln in lines if ln[0] > 0], dtype=float)
    if not st.size:
        return None
    return float(np.angle(np.exp(2j * np.pi * st / pitch).mean()) % (2 * np.pi) * pitch / (2 * np.pi))


def _phase_cost(la: list[tuple], lz: list[tuple], pitch: float, H: int, kappa_phase: float) -> float:
    """Line phase broken across a cut (rows ``H`` px high): a line at y above is one at y - H (mod
    pitch) below."""
    pa, pz = _phase(la, pitch), _phase(lz, pitch)
    if pa is None or pz is None:
        return 0.0
    d = (pz - pa + H) % pitch
    return kappa_phase * max(min(d, pitch - d) - PHASE_DEAD * pitch, 0.0)


def _edge_costs(la: list[tuple], lz: list[tuple], fa: tuple, fz: tuple, sa: tuple, sz: tuple, H: int,
                kappa_para: float, kappa_pitch: float) -> list[float]:
    """The paragraph and pitch terms of a cut between a row with lines ``la`` (figures ``fa`` of
    :func:`_row_figures`, page ``sa`` of :func:`_page_stats`) and the row below (``lz``, ``fz``,
    ``sz``): a short last line above goes with an indented first line below, and the two lines
    are one pitch (the upper row's own) apart. Empty where either edge line is cut or missing."""
    if not (la and lz and la[-1][4] and lz[0][4]) or sa[2] <= 1.0 or sz[2] <= 1.0:
        return []
    a, z = la[-1], lz[0]
    (ha, pa), (hz, pz) = fa, fz
    terms = [kappa_para * abs(_ramp((sa[1] - a[3]) / ha) - _ramp((z[2] - sz[0]) / hz))]
    pitch = pa or pz
    if pitch:
        dist = (H - a[0]) + z[0]  # line start to line start across the cut
        dist_end = (H - a[1]) + z[1]
        terms.append(kappa_pitch * min(abs(dist - pitch), abs(dist_end - pitch), pitch / 2) / (pitch / 2))
    return terms


def _path_total(order: list[int], start: np.ndarray, end: np.ndarray, cost: np.ndarray) -> float:
    """Cost of visiting the nodes in ``order``: its start and end rewards plus its links."""
    return float(start[order[0]] + end[order[-1]] + sum(cost[u, v] for u, v in zip(order[:-1], order[1:], strict=True)))


def blank_cuts(X: np.ndarray, grid: np.ndarray, either: bool = False) -> np.ndarray:
    """Boolean ``(R - 1,)``: is the cut between rows r and r + 1 blank on both faces (no ink in
    the last pixel row above it nor in the first one below it, on every piece)? With ``either``,
    blank on one side suffices (the tips of a line's tall letters touching the cut from below
    while the row above ends in blank paper: the seam then costs the same whichever blank-ended
    row lies above).

    >>> X = np.zeros((6, 2, 6, 3)); X[0, 0, -1, :] = 1   # a line cut at the bottom of piece 0
    >>> blank_cuts(X, np.array([[0, 1], [2, 3], [4, 5]])).tolist()
    [False, True]
    >>> blank_cuts(X, np.array([[0, 1], [2, 3], [4, 5]]), either=True).tolist()
    [True, True]
    """
    R, C = grid.shape
    tol = EDGE_INK * C
    bottom = (X[grid, :, -1, :] > INK).sum(axis=(1, 2, 3))  # (R,)
    top = (X[grid, :, 0, :] > INK).sum(axis=(1, 2, 3))
    if either:
        return (bottom[:-1] <= tol) | (top[1:] <= tol)
    return (bottom[:-1] <= tol) & (top[1:] <= tol)


def style(strip: np.ndarray, bins: int = 16) -> np.ndarray:
    """A type-style descriptor of a strip of text: the histograms (each summing to 1, or all 0 on
    blank paper) of the lengths of horizontal and of vertical ink runs, up to ``bins - 1`` px; stroke
    widths, counters and letter heights differ between typefaces, so the rows of two pages set in
    different faces (or sizes or weights) fall apart, while rows of one page agree.

    >>> s = np.zeros((10, 40)); s[2:8, 5:7] = 1; s[2:8, 20:23] = 1
    >>> d = style(s); d.shape, float(d[:15].sum()), int(np.argmax(d[:15])) + 1
    ((30,), 1.0, 2)
    """
    b = strip > INK
    out = []
    for m in (b, b.T):
        d = np.diff(np.pad(m.astype(np.int8), ((0, 0), (1, 1))), axis=1)
        lengths = np.flatnonzero(d.ravel() == -1) - np.flatnonzero(d.ravel() == 1)
        h = np.bincount(np.minimum(lengths, bins - 1), minlength=bins)[1:].astype(float)
        out.append(h / h.sum() if h.sum() else h)
    return np.concatenate(out)


def margins(lines: list[tuple], width: int, h: float) -> np.ndarray:
    """The text margins of a row (its lines ``lines`` of :func:`text_lines`, read as its page is
    read, ``width`` px wide, line height ``h``): ``[1, left, right]`` with the blank widths left of
    the leftmost line start and right of the rightmost line end in line heights (lines start at
    the left margin unless indented, and justified lines end at the right one); ``[0, 0, 0]`` for
    a row without text. Pages with other margins (a book's inner and outer margins alternate
    between the faces of a leaf) tell their rows apart by these, through :func:`style_costs`.

    >>> margins([(2, 8, 10, 80, True), (12, 18, 16, 60, True)], 100, 6.0).round(2).tolist()
    [1.0, 1.67, 3.17]
    """
    if not lines:
        return np.zeros(3)
    x0 = min(ln[2] for ln in lines)
    x1 = max(ln[3] for ln in lines)
    return np.array([1.0, x0 / h, (width - 1 - x1) / h])


def style_costs(desc: np.ndarray, iters: int = 10) -> np.ndarray:
    """``(R, 2)``: the style cost of each row kept as it is (0) or turned over (1). ``desc`` (2, R, d)
    holds the :func:`style` of each row's two faces (face 1 shows the other page). The two pages'
    styles are found by a 2-means in which each row's faces go to different pages, started from
    the current faces; a row's cost is its distance to the wrong page's style beyond
    ``STYLE_DEAD``, clipped at ``STYLE_CLIP``; all zero when the two styles found lie less than
    ``STYLE_GATE`` times the rows' median distance to their own style apart (both pages set alike:
    0.5-1.1 on rendered pages, clean or noisy; different typefaces or sizes: 3-18).

    >>> a, b = np.r_[1.0, 0, 0], np.r_[0, 0, 1.0]
    >>> desc = np.stack([np.stack([a, a, b]), np.stack([b, b, a])])  # row 2 is turned over
    >>> style_costs(desc).round(2).tolist()
    [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]
    """
    R = desc.shape[1]
    has = desc.sum(-1) > 0  # (2, R): faces with any ink
    ar = np.arange(R)

    def two_means(o):
        keep = swap = np.zeros(R)
        for _ in range(iters):
            h0, h1 = has[o, ar], has[1 - o, ar]
            if not h0.any() or not h1.any():
                return None
            p0, p1 = desc[o, ar][h0].mean(0), desc[1 - o, ar][h1].mean(0)
            keep = np.abs(desc[0] - p0).sum(1) + np.abs(desc[1] - p1).sum(1)
            swap = np.abs(desc[1] - p0).sum(1) + np.abs(desc[0] - p1).sum(1)
            new = (swap < keep).astype(int)
            if np.array_equal(new, o):
                break
            o = new
        spread = np.median(np.concatenate([np.abs(desc[o, ar][h0] - p0).sum(1),
                                           np.abs(desc[1 - o, ar][h1] - p1).sum(1)]))
        return float(np.minimum(keep, swap).sum()), keep, swap, float(np.abs(p0 - p1).sum()), float(spread)

    # started from the current faces, and from each row alone (its faces as the two styles; a
    # start from a half-turned page would sit still): the tightest split wins
    starts = [np.zeros(R, dtype=int)]
    for r in np.flatnonzero(has.all(0)):
        d0 = np.abs(desc[0] - desc[0, r]).sum(1) + np.abs(desc[1] - desc[1, r]).sum(1)
        d1 = np.abs(desc[1] - desc[0, r]).sum(1) + np.abs(desc[0] - desc[1, r]).sum(1)
        starts.append((d1 < d0).astype(int))
    fits = [f for f in (two_means(o) for o in starts) if f is not None]
    if not fits:
        return np.zeros((R, 2))
    _, keep, swap, apart, spread = min(fits, key=lambda f: f[0])
    if apart < STYLE_GATE * spread:  # the two styles no further apart than the rows spread around
        return np.zeros((R, 2))  # them: one style (same typeface; noise only)
    m = swap - keep  # > 0: the row fits as it is
    m = np.sign(m) * np.clip(np.abs(m) - STYLE_DEAD, 0.0, STYLE_CLIP)
    return np.stack([np.maximum(-m, 0.0), np.maximum(m, 0.0)], axis=1)


def arrange_blocks(grid: np.ndarray, X: np.ndarray, To: np.ndarray, top_w: np.ndarray, bottom_w: np.ndarray,
                   mu: float = 0.3, kappa_para: float = KAPPA_PARA, kappa_pitch: float = KAPPA_PITCH,
                   kappa_style: float = KAPPA_STYLE, kappa_phase: float = KAPPA_PHASE,
                   kappa_margin: float | None = None) -> tuple[np.ndarray, dict]:
    """Re-order and turn over the blocks of rows between blank cuts (see the module docstring).

    ``grid`` (R, C) holds piece indices; ``X`` (n, 2, H, W) the pieces with face 0 on the front
    page and face 1 the back page mirrored; ``To`` (2n, 2n) top-bottom seam costs in the turned
    frame (piece ``k + n`` is piece ``k`` turned over: faces swapped, mirrored); ``top_w`` and
    ``bottom_w`` (2n,) blank pixel rows at the top / bottom of each frame piece (summed over faces):
    the block that starts (ends) the page earns ``mu`` per column times its row's least one.
    Returns the new grid in frame ids (``>= n``: turned over) and diagnostics; the grid is the old
    one (all ids < n) when no arrangement is strictly cheaper.

    >>> X = np.zeros((2, 2, 4, 3)); To = np.zeros((4, 4))
    >>> g, info = arrange_blocks(np.array([[0], [1]]), X, To, np.zeros(4), np.zeros(4))
    >>> g.tolist(), info["blocks"]
    ([[0], [1]], 2)
    """
    R, C = grid.shape
    n = X.shape[0]
    kappa_margin = KAPPA_MARGIN if kappa_margin is None else kappa_margin
    info: dict = {"blocks": 1, "changed": False}
    if R < 2 or X.shape[1] != 2:
        return grid.copy(), info
    blank = blank_cuts(X, grid)
    if CUTS == "blank":
        cut_at = np.flatnonzero(blank)
    else:  # every cut, or on tall pages the least certain ones: blank cuts, then those that a
        # turned neighbour would close nearly as cheaply
        tg = np.where(grid[:, ::-1] < n, grid[:, ::-1] + n, grid[:, ::-1] - n)
        cur = To[grid[:-1], grid[1:]].sum(1)
        conf = np.minimum(To[grid[:-1], tg[1:]].sum(1), To[tg[:-1], grid[1:]].sum(1)) - cur
        conf = np.where(blank, -np.inf, conf)
        cut_at = np.sort(np.argsort(conf, kind="stable")[:MAX_BLOCKS - 1])
    bounds = [0] + [int(r) + 1 for r in cut_at] + [R]
    blocks = [grid[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    B = len(blocks)
    info["blocks"] = B
    info["bounds"] = bounds
    if B < 2 or B > MAX_BLOCKS:
        return grid.copy(), info
    # text lines of every row, per page (face), read normally
    lines = [[text_lines(_row_strip(X, grid[r], f)) for r in range(R)] for f in (0, 1)]
    stats = [_page_stats(lines[f]) for f in (0, 1)]

    row_own = [[_row_figures(lines[f][r], stats[f]) for r in range(R)] for f in (0, 1)]
    H = X.shape[2]

    def cue(b: int, o: int, b2: int, o2: int) -> float:
        """Text cues across the cut from block b's last row to block b2's first, in orientations
        o and o2 (turned blocks show their other face on page f); each line is judged on the
        margins of the face it is read from, so that turning the whole page over changes nothing."""
        c = 0.0
        ra, rz = bounds[b + 1] - 1, bounds[b2]
        for f in (0, 1):
            pitch = row_own[f ^ o][ra][1] or row_own[f ^ o2][rz][1]
            if kappa_phase and pitch:
                c += _phase_cost(lines[f ^ o][ra], lines[f ^ o2][rz], pitch, H, kappa_phase)
        for f in (0, 1):
            c = sum(_edge_costs(lines[f ^ o][ra], lines[f ^ o2][rz], row_own[f ^ o][ra], row_own[f ^ o2][rz],
                                stats[f ^ o], stats[f ^ o2], H, kappa_para, kappa_pitch), c)
        return c * C

    # style of every row's two faces: a unary cost of each block's orientation
    desc = np.stack([np.stack([style(_row_strip(X, grid[r], f)) for r in range(R)]) for f in (0, 1)])
    sc = style_costs(desc) * kappa_style * C
    if kappa_margin:  # and the text margins of every row's two faces, in line heights, alike
        W = X.shape[-1] * C
        desc = np.stack([np.stack([margins(lines[f][r], W, row_own[f][r][0]) for r in range(R)]) for f in (0, 1)])
        sc = sc + style_costs(desc) * kappa_margin * C
    unary = np.array([sc[bounds[b]:bounds[b + 1], o].sum() for o in (0, 1) for b in range(B)])
    # nodes: block b as it is (b) or turned over (b + B); frame rows of each
    frame = list(blocks) + [np.where(blk[:, ::-1] < n, blk[:, ::-1] + n, blk[:, ::-1] - n) for blk in blocks]
    m = 2 * B
    cost = np.full((m, m), np.inf)
    for u in range(m):
        for v in range(m):
            if u % B == v % B:
                continue
            cost[u, v] = float(To[frame[u][-1], frame[v][0]].sum()) + cue(u % B, u // B, v % B, v // B) + unary[v]
    start = np.array([-mu * C * float(top_w[frame[u][0]].min()) for u in range(m)]) + unary
    end = np.array([-mu * C * float(bottom_w[frame[u][-1]].min()) for u in range(m)])
    bonus = np.zeros((m, m))
    for b in range(B - 1):  # the current neighbours (either way the whole page is read)
        bonus[b, b + 1] = bonus[b + B, b + 1 + B] = TIE * C
    order = held_karp(cost - bonus, start, end, groups=B)

    cur = list(range(B))
    e_cur, e_new = _path_total(cur, start, end, cost), _path_total(order, start, end, cost)
    if (np.array(order) >= B).sum() * 2 > B:  # read the same page from its other face
        order = [(u + B) % m for u in order]
    info.update(order=order, e_cur=e_cur, e_new=e_new)
    if e_new < e_cur - 1e-9 and order != cur:
        info["changed"] = True
        return np.concatenate([frame[u] for u in order]), info
    return grid.copy(), info


def _turn_moves(C: int) -> tuple[np.ndarray, np.ndarray]:
    """Every in-row move of :func:`turn_segments` as (order, turned) rows: a segment turned over
    in place (not the whole row), or two pieces that exchange places, both turned over."""
    perms, turns = [], []
    for i in range(C):
        for j in range(i + 1, C + 1):
            if j - i < C:
                p, t = np.arange(C), np.zeros(C, bool)
                p[i:j], t[i:j] = np.arange(i, j)[::-1], True
                perms.append(p)
                turns.append(t)
            if j < C and j - i >= 2:
                p, t = np.arange(C), np.zeros(C, bool)
                p[i], p[j], t[i], t[j] = j, i, True, True
                perms.append(p)
                turns.append(t)
    return np.array(perms).reshape(-1, C), np.array(turns).reshape(-1, C)


def turn_segments(G: np.ndarray, J: np.ndarray, To: np.ndarray, start: np.ndarray, end: np.ndarray,
                  n: int, min_gain: float = 0.0, heights=BAND_HEIGHTS, rounds: int | None = None) -> np.ndarray:
    """Turn over segments of rows in place (the segment's pieces swap faces, its order reverses),
    or exchange two pieces of a row turning both over, in bands of 1-3 rows alike, while the page
    energy drops by more than ``min_gain``: the best move of the whole page first. Mends rows
    built partly from the wrong faces (a piece, or a run of pieces, whose faces were put on the
    wrong pages). ``G`` (R, C) holds frame ids (``k + n``: piece k turned over); ``J``, ``To``
    (2n, 2n) the left-right and top-bottom costs of the frame, ``start``/``end`` (2n,) the rewards
    for starting / ending a row. Whole rows are left to :func:`arrange_blocks`.

    >>> J = np.ones((4, 4)); J[0, 1] = 0; J[3, 2] = 0   # 0 then 1, or both turned: 3 then 2
    >>> turn_segments(np.array([[0, 3]]), J, np.zeros((4, 4)), np.zeros(4), np.zeros(4), 2).tolist()
    [[0, 1]]
    """
    G = G.copy()
    R, C = G.shape
    perm, turn = _turn_moves(C)
    if not len(perm):
        return G

    def band_energy(r0: int, band: np.ndarray) -> np.ndarray:
        """Energy of candidate bands (h, K, C) put at rows r0..: their seams and their top-bottom
        seams to the rows above and below."""
        h = band.shape[0]
        e = (J[band[:, :, :-1], band[:, :, 1:]].sum(-1) - start[band[:, :, 0]] - end[band[:, :, -1]]).sum(0)
        for t in range(h - 1):
            e += To[band[t], band[t + 1]].sum(-1)
        if r0 > 0:
            e += To[G[r0 - 1][None, :], band[0]].sum(-1)
        if r0 + h < R:
            e += To[band[-1], G[r0 + h][None, :]].sum(-1)
        return e

    cache: dict = {}  # (h, r0) -> best move of that band (gain, new rows); stale near changed rows
    for _ in range(rounds if rounds is not None else 4 * R):
        best = (-min_gain, None)
        for h in heights:
            for r0 in range(R - h + 1):
                if (h, r0) not in cache:
                    band = G[r0:r0 + h]
                    cand = band[:, perm]  # (h, K, C)
                    cand = np.where(turn[None], np.where(cand < n, cand + n, cand - n), cand)
                    d = band_energy(r0, cand) - band_energy(r0, band[:, None, :])[0]
                    k = int(np.argmin(d))
                    cache[h, r0] = (float(d[k]), cand[:, k])
                if cache[h, r0][0] < best[0]:
                    best = (cache[h, r0][0], (r0, cache[h, r0][1]))
        if best[1] is None:
            break
        r0, rows = best[1]
        G[r0:r0 + len(rows)] = rows
        lo, hi = r0 - 1, r0 + len(rows)  # bands that touch or neighbour the changed rows
        cache = {key: v for key, v in cache.items() if key[1] > hi or key[1] + key[0] - 1 < lo}
    return G


def capped_margins(margins, inked, blank: float | None = None) -> np.ndarray:
    """Blank margins of rows (``margins``) with those of rows without any ink (``inked`` False)
    cut to the widest of a row with text, or set to ``blank``: a blank row is all margin, and
    uncapped it would take the page's top and bottom from the rows with text. The page's top
    passes ``blank=0``: text starts at the top of a page, blank rows (below the text) end it.

    >>> capped_margins([3, 180, 5], [True, False, True]).tolist()
    [3.0, 5.0, 5.0]
    >>> capped_margins([3, 180, 5], [True, False, True], blank=0).tolist()
    [3.0, 0.0, 5.0]
    """
    m = np.asarray(margins, dtype=float)
    ink = np.asarray(inked, dtype=bool)
    if ink.any() and not ink.all():
        m = np.where(ink, m, m[ink].max() if blank is None else blank)
    return m


def tied_blocks(grid: np.ndarray, X: np.ndarray, energy, tol: float) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The pairs of row blocks (between cuts blank on every piece on at least one side, see
    :func:`blank_cuts`) that change places at a page energy within ``tol`` of the current one
    and keep every text line on its page's line grid (each row moves by a whole number of line
    pitches, within ``PHASE_DEAD``, on every face) and the page's top and bottom margins as
    wide: no seam, line spacing or margin tells such blocks' order, so the page should be
    checked there (and fixed with a lock if wrong). ``grid`` (R, C) holds piece indices, ``X``
    (n, faces, H, W) their ink, ``energy(grid)`` prices a page. Blocks without any ink are left
    out (exchanging blank paper changes nothing a reader sees), and nothing is reported where a
    face has no measurable line pitch. Returns ``((a0, a1), (b0, b1))`` pairs of inclusive row ranges, top block first.

    >>> X = np.zeros((6, 1, 10, 3)); X[:, 0, 1:3] = X[:, 0, 6:8] = 1  # lines 5 px apart, rows 10 px
    >>> flat = lambda g: 0.0                                 # every order costs the same
    >>> tied_blocks(np.arange(6)[:, None], X, flat, 1e-9)[:2]
    [((0, 0), (1, 1)), ((0, 0), (2, 2))]
    >>> tied_blocks(np.arange(6)[:, None], X[:, :, :9], flat, 1e-9)  # rows 9 px: 5 rows = 9 pitches
    [((0, 0), (5, 5))]
    """
    R = grid.shape[0]
    if R < 2:
        return []
    H = X.shape[-2]
    pitches = [_page_stats([text_lines(_row_strip(X, grid[r], f)) for r in range(R)])[3] for f in range(X.shape[1])]
    if not all(pitches):
        return []
    bounds = [0] + [int(r) + 1 for r in np.flatnonzero(blank_cuts(X, grid, either=True))] + [R]
    blocks = [list(range(a, b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    inked = [bool((X[grid[blk]] > INK).any()) for blk in blocks]
    widths = blank_widths(X)
    top = widths["top"][grid].min(axis=(1, 2))  # blank pixel rows above each row's text
    bottom = widths["bottom"][grid].min(axis=(1, 2))
    dead = PHASE_DEAD * min(pitches)
    e0 = energy(grid)
    out = []
    for u in range(len(blocks)):
        for v in range(u + 1, len(blocks)):
            if not (inked[u] and inked[v]):
                continue
            order = list(blocks)
            order[u], order[v] = order[v], order[u]
            rows = np.array([r for blk in order for r in blk])
            shift = (np.arange(R) - rows) * H  # how far each row moves, px
            on_grid = all(np.all(np.minimum(shift % p, -shift % p) <= PHASE_DEAD * p) for p in pitches)
            # the page's top and bottom margins stay as wide as they were
            margins = abs(top[rows[0]] - top[0]) <= dead and abs(bottom[rows[-1]] - bottom[-1]) <= dead
            if on_grid and margins and abs(energy(grid[rows]) - e0) <= tol:
                out.append(((blocks[u][0], blocks[u][-1]), (blocks[v][0], blocks[v][-1])))
    return out


def order_blocks(grid: np.ndarray, X: np.ndarray, T: np.ndarray, top_w: np.ndarray, bottom_w: np.ndarray,
                 mu: float = 0.3, kappa_para: float = KAPPA_PARA, kappa_pitch: float = KAPPA_PITCH,
                 kappa_phase: float = KAPPA_PHASE) -> tuple[np.ndarray, dict]:
    """One-sided pages: re-order (never turn) the blocks of rows between blank cuts where the seams
    tie, by the text cues of :func:`arrange_blocks` across each cut (paragraph rule, line pitch and
    phase) and the page's top and bottom margin.

    Between cuts through blank paper the top-bottom seams of any block order cost the same when
    the line pitch repeats from row to row, so the seam energy cannot tell (say) row blocks 1-3 and
    7-9 apart; the text can where a paragraph breaks at a cut. The search is exact over block
    orders whose every link ties a current one on the seams (no order the seams price
    differently); the current arrangement wins every tie. ``grid`` (R, C) holds piece indices,
    ``X`` (n, 1, H, W) the pieces' ink, ``T`` (n, n) the top-bottom seam costs, ``top_w`` /
    ``bottom_w`` (n,) blank pixel rows at the top / bottom of each piece. Returns the new grid
    (the old one when no order is strictly cheaper) and diagnostics.

    >>> X = np.zeros((2, 1, 4, 3)); g, info = order_blocks(np.array([[0], [1]]), X, np.zeros((2, 2)),
    ...                                                    np.zeros(2), np.zeros(2))
    >>> g.tolist(), info["blocks"]
    ([[0], [1]], 2)
    """
    R, C = grid.shape
    info: dict = {"blocks": 1, "changed": False}
    if R < 2:
        return grid.copy(), info
    H = X.shape[-2]
    cut_at = np.flatnonzero(blank_cuts(X, grid))
    bounds = [0] + [int(r) + 1 for r in cut_at] + [R]
    B = len(bounds) - 1
    info.update(blocks=B, bounds=bounds)
    if B < 2 or B > MAX_BLOCKS:
        return grid.copy(), info
    lines = [text_lines(_row_strip(X, grid[r], 0)) for r in range(R)]
    stats = _page_stats(lines)
    row_own = [_row_figures(lines[r], stats) for r in range(R)]

    def cue(b: int, b2: int) -> float:
        """Text cues across the cut from block b's last row to block b2's first."""
        c = 0.0
        ra, rz = bounds[b + 1] - 1, bounds[b2]
        pitch = row_own[ra][1] or row_own[rz][1]
        if kappa_phase and pitch:
            c += _phase_cost(lines[ra], lines[rz], pitch, H, kappa_phase)
        c = sum(_edge_costs(lines[ra], lines[rz], row_own[ra], row_own[rz], stats, stats, H,
                            kappa_para, kappa_pitch), c)
        return c * C

    blocks = [grid[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    seam = np.full((B, B), np.inf)
    cost = np.full((B, B), np.inf)
    for u in range(B):
        for v in range(B):
            if u != v:
                seam[u, v] = float(T[blocks[u][-1], blocks[v][0]].sum())
                cost[u, v] = cue(u, v)
    # only links that tie a current one on the seams (blank against blank): the seams have spoken
    # everywhere else, and an order that they price differently is not this search's to pick
    now = np.array([seam[b, b + 1] for b in range(B - 1)])
    tie = np.abs(seam[:, :, None] - now[None, None]).min(-1) <= 1e-9 * max(1.0, float(np.abs(now).max()))
    cost = np.where(tie, cost, np.inf)
    first_inked, last_inked = ([bool((X[blk[k]] > INK).any()) for blk in blocks] for k in (0, -1))
    start = -mu * C * capped_margins([top_w[blk[0]].min() for blk in blocks], first_inked, blank=0.0)
    end = -mu * C * capped_margins([bottom_w[blk[-1]].min() for blk in blocks], last_inked)
    bonus = np.zeros((B, B))
    for b in range(B - 1):
        bonus[b, b + 1] = TIE * C
    order = held_karp(cost - bonus, start, end)

    cur = list(range(B))
    e_cur, e_new = _path_total(cur, start, end, cost), _path_total(order, start, end, cost)
    info.update(order=order, e_cur=e_cur, e_new=e_new)
    s_cur, s_new = (sum(seam[u, v] for u, v in zip(o[:-1], o[1:], strict=True)) for o in (cur, order))
    info.update(seams=(s_cur, s_new))
    if e_new < e_cur - 1e-9 and order != cur and abs(s_new - s_cur) <= 1e-9 * max(1.0, abs(s_cur)):
        info["changed"] = True
        return np.concatenate([blocks[u] for u in order]), info
    return grid.copy(), info
