"""Scores of a reconstruction against the true grid (for tests and benchmarks; solvers never read truths).

* neighbour accuracy: share of true left-right and top-bottom neighbour pairs that the result
  also has (same order, same direction);
* direct accuracy: share of pieces in their true cell;
* perfect: every cell right.

For two-sided sets either face may be the front: a result that shows the true back page
(``A:B`` right of each other on the back) is scored against the back page.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError


def read_grid(path: str | Path) -> list[list[str]]:
    """Read a grid CSV (rows of comma-separated stems).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.csv"; _ = p.write_text("1,2\\n3,4\\n")
    >>> read_grid(p)
    [['1', '2'], ['3', '4']]
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"grid file {p} does not exist")
    rows = [[c.strip() for c in line.split(",")] for line in p.read_text().splitlines() if line.strip()]
    if not rows or len({len(r) for r in rows}) != 1:
        raise InputError(f"{p} is not a grid: its rows must all hold the same number of stems")
    return rows


def _pairs(grid):
    lr = {(a, b) for row in grid for a, b in zip(row[:-1], row[1:], strict=True)}
    tb = {(a, b) for r1, r2 in zip(grid[:-1], grid[1:], strict=True) for a, b in zip(r1, r2, strict=True)}
    return lr, tb


def _score_one(true, got) -> dict:
    tl, tt = _pairs(true)
    gl, gt = _pairs(got)
    n_pairs = len(tl) + len(tt)
    cells = [(r, c) for r in range(len(true)) for c in range(len(true[0]))]
    same_shape = len(got) == len(true) and all(len(g) == len(true[0]) for g in got)
    direct = sum(got[r][c] == true[r][c] for r, c in cells) / len(cells) if same_shape else 0.0
    nb = (len(tl & gl) + len(tt & gt)) / n_pairs if n_pairs else float(same_shape and direct == 1.0)
    return {"neighbour": nb, "lr": len(tl & gl) / len(tl) if tl else 1.0, "tb": len(tt & gt) / len(tt) if tt else 1.0,
            "direct": direct, "perfect": bool(same_shape and direct == 1.0)}


def score(true_grid: list[list[str]], grid: list[list[str]], true_back: list[list[str]] | None = None) -> dict:
    """Neighbour accuracy, direct accuracy and perfection of ``grid`` against ``true_grid``.
    With ``true_back`` (two-sided sets) the result may show either page as front; the better
    reading counts. Stems are compared without case.

    >>> t = [["a", "b", "c"], ["d", "e", "f"]]
    >>> score(t, t)["perfect"], score(t, [["b", "c", "a"], ["d", "e", "f"]])["neighbour"]
    (True, 0.42857142857142855)
    """
    def norm(g):
        return [[s.lower() for s in row] for row in g]

    best = _score_one(norm(true_grid), norm(grid))
    if true_back is not None:
        other = _score_one(norm(true_back), norm(grid))
        if other["neighbour"] > best["neighbour"]:
            best = other | {"front_is": "back"}
    return best
