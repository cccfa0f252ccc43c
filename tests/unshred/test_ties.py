"""Tests of the tie report: blocks of rows that no seam, line spacing or margin orders
(twosided.tied_blocks), reported by the solver (Solution.ties, a note) and the command
(report.json "tied_blocks")."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kexue.unshred import score, shred, solve, text_page, write_shredded
from kexue.unshred.render import confidence_image
from kexue.unshred.twosided import tied_blocks
from tests.conftest import run_cli


def _lines(R: int, H: int, starts: tuple[int, ...], n_cols: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """R rows of ``n_cols`` pieces H px high with 2 px text lines starting at ``starts``."""
    X = np.zeros((R * n_cols, 1, H, 4))
    for y in starts:
        X[:, 0, y:y + 2] = 1.0
    return X, np.arange(R * n_cols).reshape(R, n_cols)


def test_tied_blocks_needs_equal_energy_the_line_grid_and_the_margins():
    X, g = _lines(6, 10, (1, 6))  # pitch 5, rows 10 px: every row moves by whole pitches
    flat = lambda grid: 0.0  # noqa: E731
    got = tied_blocks(g, X, flat, 1e-9)
    assert ((1, 1), (4, 4)) in got and len(got) == 15  # all 6 x 5 / 2 swaps tie
    # an energy that tells the order: nothing is a tie
    assert tied_blocks(g, X, lambda grid: float(np.abs(np.diff(grid[:, 0])).sum()), 1e-9) == []
    # rows 9 px high: only moves by 5 rows (45 px = 9 pitches) keep the line grid
    assert tied_blocks(g, X[:, :, :9], flat, 1e-9) == [((0, 0), (5, 5))]
    # a wider top margin on row 0 (its first line missing): row 0 stays out of every tie
    X2 = X.copy()
    X2[g[0], 0, 1:3] = 0
    got2 = tied_blocks(g, X2, flat, 1e-9)
    assert got2 and all(a[0] > 0 for a, _ in got2)
    # blank rows (below the text) are never reported, and no pitch -> no report
    X3 = X.copy()
    X3[g[4:].ravel()] = 0
    assert all(b[1] < 4 for _, b in tied_blocks(g, X3, flat, 1e-9))
    assert tied_blocks(g, np.zeros_like(X), flat, 1e-9) == []
    # an inked cut joins its rows into one block: rows 2 and 3 move only together
    X4 = X.copy()
    X4[g[2], 0, -1] = X4[g[3], 0, 0] = 1.0
    blocks = {blk for pair in tied_blocks(g, X4, flat, 1e-9) for blk in pair}
    assert (2, 3) in blocks and not blocks & {(2, 2), (3, 3), (1, 2), (3, 4)}
    # ink on one side of a cut only (tall letters' tips touching it from below, the row above
    # ending in blank paper) still bounds a block: the seam costs the same whichever row is above
    X5 = X.copy()
    X5[g[3], 0, 0] = 1.0
    blocks = {blk for pair in tied_blocks(g, X5, flat, 1e-9) for blk in pair}
    assert {(2, 2), (3, 3)} <= blocks


@pytest.fixture(scope="module")
def tie_page():
    """English lines 30 px apart on rows 90 px high, every cut through a gap between lines: all
    rows but the first and last could stand in any order."""
    page = text_page(600, 630, seed=3, lang="en", font_size=20, line_spacing=1.5, margin=33)
    return shred(page, 7, 4, seed=3)


def test_solver_reports_rows_it_cannot_order(tie_page):
    sol = solve(tie_page.pieces, 7, 4)
    assert sol.ties, "a page whose rows are interchangeable must be flagged"
    for (a0, a1), (b0, b1) in sol.ties:
        assert 1 <= a0 <= a1 < b0 <= b1 <= 5  # the first and last rows keep the page margins
    assert any("no seam tells the order" in n for n in sol.notes)
    # and confidence.png marks them down the left margin (orange), the other rows not
    img = confidence_image(sol)
    h = tie_page.pieces.shape[0]
    orange = (img[:, :3] == [255, 150, 0]).all(-1).any(1)  # (page height,)
    marked = {b for pair in sol.ties for b in pair}
    for r in range(7):
        assert orange[r * h + h // 2] == any(a <= r <= b for a, b in marked)


def test_solved_page_without_ties_reports_none():
    s = shred(text_page(720, 1000, seed=4), 4, 5, seed=4)
    sol = solve(s.pieces, 4, 5)
    assert score(s.true_grid, sol.grid)["perfect"]
    assert sol.ties == [] and not any("no seam" in n for n in sol.notes)


def test_cli_writes_tied_blocks(tie_page, tmp_path):
    write_shredded(tie_page, tmp_path / "pieces")
    code, out, err = run_cli("unshred", "solve", str(tmp_path / "pieces"), "--out", str(tmp_path / "out"),
                             "--rows", "7", "--cols", "4", "--json")
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["tied_blocks"] == json.loads(out)["tied_blocks"]
    assert all(1 <= t["rows"][0] <= t["rows"][1] < t["with"][0] <= t["with"][1] <= 5 for t in report["tied_blocks"])
    assert report["tied_blocks"], "the page's interchangeable rows must be in the report"
