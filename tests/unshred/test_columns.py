"""Tests of the column-first opinion (solver._place_columns, solver._second_opinion): a page whose
left-right seams say little one by one but whose top-bottom seams chain every column."""

from __future__ import annotations

import numpy as np

from kexue.unshred import solver
from kexue.unshred.paths import split_paths


def _page(R: int, C: int, seed: int = 0):
    """Costs of an R x C page (piece k at a random cell): every top-bottom seam telling (true 0,
    other 3), every left-right seam a coin toss on its own (noise sd 0.5 around a 0.3 lead), the
    page margins 10 px of blank paper on each side."""
    rng = np.random.default_rng(seed)
    n = R * C
    truth = rng.permutation(n).reshape(R, C)
    T = np.full((n, n), 3.0)
    T[truth[:-1].ravel(), truth[1:].ravel()] = 0.0
    D = 1.0 + rng.normal(0.0, 0.5, (n, n))
    D[truth[:, :-1].ravel(), truth[:, 1:].ravel()] -= 0.3
    widths = {side: np.zeros((n, 1), int) for side in ("left", "right", "top", "bottom")}
    widths["left"][truth[:, 0]] = widths["right"][truth[:, -1]] = 10
    widths["top"][truth[0]] = widths["bottom"][truth[-1]] = 10
    return truth, D, T, widths


def test_columns_first_recovers_a_page_whose_rows_tour_has_nothing_to_go_by():
    truth, D, T, widths = _page(6, 9)
    D[np.arange(D.shape[0]), np.arange(D.shape[0])] = np.inf
    # each left-right seam alone misleads often: the best right neighbour is wrong for most pieces
    a, b = truth[:, :-1].ravel(), truth[:, 1:].ravel()
    assert np.mean(D[a].argmin(1) == b) < 0.5
    got = solver._place_columns(D, T, 6, 9, widths, width=20)
    assert np.array_equal(got, truth)
    # the second opinion takes it over the 2-D growth, which the misleading seams send astray
    grown = solver._place_greedy(D, T, 6, 9, eps=solver.PLACE_EPS)
    assert not np.array_equal(grown, truth)
    assert np.array_equal(solver._second_opinion(D, T, 6, 9, widths, width=20), truth)


def test_second_opinion_keeps_the_2d_growth_unless_columns_are_clearly_cheaper(monkeypatch):
    truth, D, T, widths = _page(5, 7, seed=1)
    grown = solver._place_greedy(D, T, 5, 7, eps=solver.PLACE_EPS)
    monkeypatch.setattr(solver, "COLUMN_GAIN", 1e6)  # no page is that much cheaper
    assert np.array_equal(solver._second_opinion(D, T, 5, 7, widths, width=20), grown)
    monkeypatch.setattr(solver, "PLACE_COLUMNS", False)
    assert np.array_equal(solver._second_opinion(D, T, 5, 7, widths, width=20), grown)


def test_quick_tour_still_splits_clear_paths():
    c = np.full((9, 9), 5.0)
    for a, b in ((0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8)):
        c[a, b] = 0.0
    assert sorted(split_paths(c, 3, np.zeros(9), np.zeros(9), runs=1, quick=True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
