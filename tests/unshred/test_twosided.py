"""Tests of kexue.unshred.twosided: blocks of rows between blank cuts turned and re-ordered by
the paragraph and line-pitch agreement of the text lines across each cut."""

from __future__ import annotations

import itertools

import numpy as np

from kexue.unshred import twosided
from kexue.unshred.twosided import arrange_blocks, blank_cuts, text_lines

ROWS, COLS, RH, PW = 4, 6, 40, 10  # rows x cols of pieces, row height, piece width (px)


def _page(par_ends: set[int], y0: int = 2, pitch: int = 10) -> np.ndarray:
    """A page of bar-shaped text lines (height 4, pitch 10, the first at ``y0``: with y0 = 2..5
    every cut at 40 px runs through a gap); a paragraph ends on the lines in ``par_ends`` (short
    line) and the next line is indented."""
    page = np.zeros((ROWS * RH, COLS * PW))
    for k in range((ROWS * RH - y0 - 4) // pitch + 1):
        y = y0 + pitch * k
        x0 = 11 if k - 1 in par_ends or k == 0 else 3
        x1 = 30 if k in par_ends else 57
        page[y:y + 4, x0:x1] = 1.0
    return page


def _pieces(front: np.ndarray, back: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2, H, W) pieces in true order (face 1 = back page mirrored, as the solver holds them)
    and the true grid."""
    bm = back[:, ::-1]
    def cell(page, r, c):
        return page[r * RH:(r + 1) * RH, c * PW:(c + 1) * PW]

    X = np.stack([np.stack([cell(front, r, c), cell(bm, r, c)]) for r in range(ROWS) for c in range(COLS)])
    return X, np.arange(ROWS * COLS).reshape(ROWS, COLS)


def _turn(X, grid, rows):
    """The pieces of ``rows`` turned over (faces swapped, mirrored; the rows read reversed)."""
    X, grid = X.copy(), grid.copy()
    for r in rows:
        X[grid[r]] = X[grid[r]][:, ::-1, :, ::-1]
        grid[r] = grid[r][::-1]
    return X, grid


def test_text_lines_find_lines_and_cut_ones():
    page = _page({3})
    lines = text_lines(page[:RH])
    assert [ln[:2] for ln in lines] == [(2, 6), (12, 16), (22, 26), (32, 36)]
    assert lines[0][2] == 11 and lines[3][3] == 29 and all(ln[4] for ln in lines)
    assert not text_lines(page[4:RH])[0][4]  # a line cut by the strip's edge is not complete


def _anchors(truth, n):
    """Blank page margins: the first row's pieces have blank tops, the last row's blank bottoms."""
    top, bottom = np.zeros(2 * n), np.zeros(2 * n)
    top[truth[0]] = top[truth[0] + n] = 10
    bottom[truth[-1]] = bottom[truth[-1] + n] = 10
    return top, bottom


def _recovered(g, truth, n) -> bool:
    base = np.where(g >= n, g - n, g)
    return bool((base == truth).all() or (base == truth[:, ::-1]).all())


# the front page has one paragraph break at a cut, the back three; the back's lines sit 3 px lower
# (another line phase): every arrangement but the truth breaks a paragraph or the line pitch
FRONT_ENDS, BACK_ENDS, BACK_Y0 = {7}, {3, 7, 11}, 5


def test_blocks_turned_back_by_paragraph_and_pitch_cues():
    X, truth = _pieces(_page(FRONT_ENDS), _page(BACK_ENDS, BACK_Y0))
    assert blank_cuts(X, truth).all()
    n = X.shape[0]
    top, bottom = _anchors(truth, n)
    To = np.zeros((2 * n, 2 * n))
    g, info = arrange_blocks(truth, X, To, top, bottom)  # the truth is kept as it is
    assert not info["changed"] and (g == truth).all() and info["blocks"] == ROWS
    for turns in itertools.product([0, 1], repeat=ROWS):
        rows = [r for r in range(ROWS) if turns[r]]
        if not rows:
            continue
        Xt, gt = _turn(X, truth, rows)
        g, info = arrange_blocks(gt, Xt, To, top, bottom)
        assert _recovered(g, truth, n), turns
        # the rows turned on input come back as frame ids k + n (or all others, for the back page)
        turned = (g >= n).all(1)
        assert turned.tolist() in ([r in rows for r in range(ROWS)], [r not in rows for r in range(ROWS)])


def test_blocks_put_back_in_order_by_paragraph_cues():
    X, truth = _pieces(_page(FRONT_ENDS), _page(BACK_ENDS, BACK_Y0))
    n = X.shape[0]
    top, bottom = _anchors(truth, n)
    for perm in ([0, 2, 1, 3], [0, 1, 3, 2], [0, 3, 2, 1]):
        g, info = arrange_blocks(truth[perm], X, np.zeros((2 * n, 2 * n)), top, bottom)
        assert info["changed"] and _recovered(g, truth, n), perm


def test_blank_cuts_mode_leaves_inked_cuts_alone(monkeypatch):
    X, truth = _pieces(_page(FRONT_ENDS), _page(BACK_ENDS, BACK_Y0))
    X[:, 0, [0, -1], :] = 1.0  # ink across every cut: seams decide, not the text cues
    n = X.shape[0]
    monkeypatch.setattr(twosided, "CUTS", "blank")
    g, info = arrange_blocks(truth[[0, 2, 1, 3]], X, np.zeros((2 * n, 2 * n)), *_anchors(truth, n))
    assert info["blocks"] == 1 and not info["changed"]


def test_rows_turned_back_by_seams_at_inked_cuts():
    X, truth = _pieces(_page(FRONT_ENDS), _page(BACK_ENDS, BACK_Y0))
    X[:, :, [0, -1], :] = 1.0  # every cut runs through ink on both faces: no text cue
    n = X.shape[0]
    To = np.ones((2 * n, 2 * n))  # the true top-bottom neighbours are the cheap ones, either way up
    for r in range(ROWS - 1):
        To[truth[r], truth[r + 1]] = 0.0
        To[truth[r][::-1] + n, truth[r + 1][::-1] + n] = 0.0
    for rows in ([1], [2, 3], [0, 2]):
        Xt, gt = _turn(X, truth, rows)
        # the frame of the turned input: its piece k + n is the true piece k + n's partner
        idx = np.arange(2 * n)
        flip = np.isin(np.arange(n), truth[rows])
        idx[:n][flip] += n
        idx[n:][flip] -= n
        g, info = arrange_blocks(gt, Xt, To[np.ix_(idx, idx)], *_anchors(truth, n))
        assert info["blocks"] == ROWS and info["changed"] and _recovered(g, truth, n), rows


def test_solve_two_sided_page_whose_rows_only_the_text_orders(monkeypatch):
    """A rendered two-sided page (11 x 19, 36 px type) cut through blank paper on both faces
    every three rows: the seams cannot order or turn those blocks (3 rows are 10 line pitches: the
    same line phase); the text cues put every row back whole and on its page (57.5% -> 85.3%).
    What stays wrong is an exact tie: blocks 1-3, 4-6 and 7-9 in another order cost the same on
    every seam and text cue (no paragraph breaks at those cuts), so the test asks for whole rows,
    not for the order of those blocks (it was perfect by the luck of a tie once)."""
    from kexue.unshred import score, shred, solve, solver, text_page

    kw = dict(lang="en", font_size=36, line_spacing=1.5)
    s = shred(text_page(1368, 1980, seed=220, **kw), 11, 19, seed=220, back=text_page(1368, 1980, seed=1220, **kw))
    sol = solve(s.pieces, 11, 19)
    true_rows = [{x[:-1] for x in row} for row in s.true_grid]
    rows = [{s.pieces.ids[k] for k in row} for row in sol.index]
    assert sorted(map(sorted, rows)) == sorted(map(sorted, true_rows))  # every row whole
    pages = [[r for r in sol.grid if {x[:-1] for x in r} == t][0] for t in true_rows]
    for got, want, back in zip(pages, s.true_grid, s.true_back, strict=True):
        assert got in (want, back)  # read as a row of one page (a row turned over is the back's)
    assert score(s.true_grid, sol.grid, s.true_back)["neighbour"] > 0.8
    monkeypatch.setattr(solver, "TURN_BLOCKS", False)
    assert score(s.true_grid, solve(s.pieces, 11, 19).grid, s.true_back)["neighbour"] < 0.6


def _same_grid_pair(back):
    """Pieces of a front page without paragraph breaks and the given back page on its line grid,
    with what arrange_blocks needs: (X, truth, n, top, bottom, flat top-bottom costs)."""
    X, truth = _pieces(_page(set()), back)
    n = X.shape[0]
    top, bottom = _anchors(truth, n)
    return X, truth, n, top, bottom, np.zeros((2 * n, 2 * n))


def test_rows_turned_back_by_type_style_alone():
    """Both pages on one line grid without any paragraph break at a cut: only the style tells them
    apart (the back page's lines are dashed, as a different typeface would be)."""
    back = _page(set())
    back[:, 1::3] = 0.0  # strokes 2 px wide instead of one long run
    X, truth, n, top, bottom, To = _same_grid_pair(back)
    for rows in ([1], [2], [1, 2]):
        Xt, gt = _turn(X, truth, rows)
        g, info = arrange_blocks(gt, Xt, To, top, bottom)
        assert _recovered(g, truth, n), rows
        g, info = arrange_blocks(gt, Xt, To, top, bottom, kappa_style=0.0)  # without the style: a tie
        assert not info["changed"]


def test_rows_turned_back_by_text_margins_alone():
    """Both pages on one line grid in one type style without any paragraph break at a cut, but the
    back page's text sits between wider side margins (as a book's inner and outer margins
    alternate between the faces of a leaf): with the style and paragraph cues off, only the
    margins tell a turned row."""
    back = _page(set())
    back[:, :12] = 0.0
    back[:, 48:] = 0.0
    X, truth, n, top, bottom, To = _same_grid_pair(back)
    for rows in ([1], [2], [1, 2]):
        Xt, gt = _turn(X, truth, rows)
        off = dict(kappa_style=0.0, kappa_para=0.0)
        g, info = arrange_blocks(gt, Xt, To, top, bottom, **off)
        assert _recovered(g, truth, n), rows
        g, info = arrange_blocks(gt, Xt, To, top, bottom, kappa_margin=0.0, **off)  # a tie
        assert not info["changed"]


def test_frame_energy_sees_turned_rows_not_the_turned_page():
    """Two-sided solutions with different faces compare on one scale: the same page read from its
    back costs the same, a row turned over costs more."""
    from kexue.unshred import score, shred, solve, solver, text_page

    s = shred(text_page(720, 1000, seed=6), 5, 6, seed=6, back=text_page(720, 1000, seed=7))
    sol = solve(s.pieces, 5, 6)
    assert score(s.true_grid, sol.grid, s.true_back)["perfect"]
    back = solver.Solution(s.pieces, sol.index[:, ::-1].copy(), 1 - sol.front, sol.lr_conf, sol.tb_conf)
    turned = solver.Solution(s.pieces, sol.index.copy(), sol.front.copy(), sol.lr_conf, sol.tb_conf)
    turned.front[turned.index[2]] ^= 1
    turned.index[2] = turned.index[2][::-1]
    e = solver._frame_energy(s.pieces, sol, sol)
    assert abs(solver._frame_energy(s.pieces, back, sol) - e) < 0.01 * abs(e) + 0.05
    assert solver._frame_energy(s.pieces, turned, sol) > e + 5.0


def test_rows_put_back_in_order_by_line_phase():
    """Lines 12 px apart on rows 40 px high: each row starts its lines 4 px further on (mod 12), so
    rows in the wrong order break the line phase even where cuts run through text."""
    X, truth = _pieces(_page(set(), pitch=12), _page(set(), pitch=12))
    n = X.shape[0]
    To = np.zeros((2 * n, 2 * n))
    for perm in ([0, 2, 1, 3], [0, 3, 1, 2]):
        g, info = arrange_blocks(truth[perm], X, To, *_anchors(truth, n))
        assert info["changed"] and _recovered(g, truth, n), perm
    # without the line geometry nothing tells the middle rows apart
    g, info = arrange_blocks(truth[[0, 2, 1, 3]], X, To, *_anchors(truth, n), kappa_phase=0.0, kappa_pitch=0.0)
    assert not info["changed"]


def _para_rows(R: int = 4, C: int = 2, H: int = 20, W: int = 10):
    """One-sided pieces of R rows x C columns: two text lines per row (blank at every cut, one
    line pitch and phase throughout); row 1 ends a paragraph (a short last line) and row 2 starts
    one (an indented first line)."""
    page = np.zeros((R * H, C * W))
    for r in range(R):
        for k, y in enumerate((3, 13)):
            x0 = 8 if (r, k) == (2, 0) else 1
            x1 = 8 if (r, k) == (1, 1) else C * W - 1
            page[r * H + y:r * H + y + 4, x0:x1] = 1.0
    X = np.stack([page[r * H:(r + 1) * H, c * W:(c + 1) * W] for r in range(R) for c in range(C)])[:, None]
    return X, np.arange(R * C).reshape(R, C)


def test_order_blocks_paragraph_cue_restores_swapped_rows():
    X, truth = _para_rows()
    T = np.zeros((len(X), len(X)))  # every block order costs the same seams: an exact tie
    zero = np.zeros(len(X))
    top, bottom = zero.copy(), zero.copy()
    top[truth[0]] = bottom[truth[-1]] = 2.0  # the page's top and bottom margin
    for perm in ([0, 2, 1, 3], [2, 0, 3, 1], [0, 3, 2, 1]):
        g, info = twosided.order_blocks(truth[perm], X, T, top, bottom)
        assert info["blocks"] == 4 and info["changed"]
        assert g.tolist() == truth.tolist(), perm
    # the right page stays as it is, and so does any page whose cuts the text cannot tell apart
    g, info = twosided.order_blocks(truth, X, T, zero, zero)
    assert g.tolist() == truth.tolist() and not info["changed"]
    flat = X.copy()
    flat[:, :, :, :] = X[0:1]  # every row alike: every order ties, the current one wins
    for perm in itertools.permutations(range(4)):
        g, _ = twosided.order_blocks(truth[list(perm)], flat, T, zero, zero)
        assert g.tolist() == truth[list(perm)].tolist()


def test_order_blocks_seams_decide_first():
    X, truth = _para_rows()
    n = len(X)
    T = np.ones((n, n))
    g0 = truth[[0, 2, 1, 3]]
    T[g0[:-1], g0[1:]] = 0.0  # the current order has the cheaper seams: text cues do not overrule them
    g, info = twosided.order_blocks(g0, X, T, np.zeros(n), np.zeros(n))
    assert g.tolist() == g0.tolist() and not info["changed"]


def _true_frame(s):
    """The solver's inputs to :func:`arrange_blocks` on the true arrangement of a shredded two-sided
    page: true grid, pieces at their true faces, seams in the turned frame, blank edge widths."""
    from kexue.unshred import solver
    from kexue.unshred.features import blank_widths, denoise

    p = s.pieces
    n = p.n
    idx = {k: i for i, k in enumerate(p.ids)}
    truth = np.array([[idx[x[:-1]] for x in row] for row in s.true_grid])
    f = np.asarray(s.true_front)
    X = denoise(np.stack([p.ink[np.arange(n), f], p.ink[np.arange(n), 1 - f][:, :, ::-1]], axis=1))
    D0, T0, _, _ = solver._costs(X, [], [], [], [])
    Xo = np.concatenate([X, X[:, ::-1, :, ::-1]])
    To = solver._costs(Xo, [], [], [], [], scales=(solver._scale(D0), solver._scale(T0)))[3]
    wo = blank_widths(Xo)
    return truth, X, np.where(np.isfinite(To), To, solver.BIG), wo["top"].sum(1), wo["bottom"].sum(1)


def test_noisy_two_sided_truth_stays():
    """Scanner-like noise (grey sigma 10) on two pages set alike: the measured type styles of the
    two pages differ by noise only (seed 131: rows 8-9 went over to the other page) and the line
    phase of Chinese rows jitters by 1-3 px (seed 132: blocks 1-3 and 7-9 traded places); neither
    may move a block of the true page (the style gate and the phase dead zone)."""
    from kexue.unshred import shred, text_page

    for lang, seed, fs in (("en", 131, 34), ("zh", 132, 36)):
        kw = dict(lang=lang, font_size=fs, line_spacing=1.5)
        s = shred(text_page(1368, 1980, seed=seed, **kw), 11, 19, seed=seed, noise=10.0,
                  back=text_page(1368, 1980, seed=seed + 1000, **kw))
        truth, X, To, top, bottom = _true_frame(s)
        g, info = arrange_blocks(truth, X, To, top, bottom, 0.3)
        assert info["blocks"] >= 3 and not info["changed"], (seed, info.get("order"))


def test_noisy_faces_go_to_pages_by_whole_rows(monkeypatch):
    """Under scanner noise the raw prediction errors matched edges cut along vertical strokes of
    the other page with confidence: segments of rows went to the wrong page (seed 354: 66 faces
    in parts of rows), which no later step turns back whole. The blend used on noisy scans leaves
    every row's faces together (a whole row on the wrong page is turned by the later steps)."""
    from kexue.unshred import shred, solver, text_page

    def rows_whole(s) -> bool:
        f = solver.assign_faces(s.pieces, 11)
        idx = {k: i for i, k in enumerate(s.pieces.ids)}
        wrong = f != np.asarray(s.true_front)
        return all(len({bool(wrong[idx[x[:-1]]]) for x in row}) == 1 for row in s.true_grid)

    kw = dict(lang="zh", font_size=30, line_spacing=1.5)
    s = shred(text_page(1368, 1980, seed=354, **kw), 11, 19, seed=354, noise=10.0,
              back=text_page(1368, 1980, seed=1354, **kw))
    assert rows_whole(s)
    monkeypatch.setattr(solver, "FACE_SEAMS", "pred")
    assert not rows_whole(s)
