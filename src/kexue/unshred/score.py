"""Scores of a reconstruction against the true grid (for tests and benchmarks; solvers never read truths).

* neighbour accuracy: share of true left-right and top-bottom neighbour pairs that the result
  also has (same order, same direction);
* direct accuracy: share of pieces in their true cell;
* perfect: every cell right.

For two-sided sets either face may be the front: a result that shows the true back page
(``A:B`` right of each other on the back) is scored against the back page.

Pieces with identical pixels (blank paper beyond the text, mostly) cannot be told apart by any
solver; with ``alike`` (see :func:`alike_pieces`) such pieces count as one, so a result is not
marked down for putting one blank piece where its twin belongs.
"""

from __future__ import annotations

from collections import Counter
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


def alike_pieces(pieces) -> dict[str, str]:
    """For each face stem of ``pieces`` (a :class:`~kexue.unshred.pieces.Pieces`), the first stem
    whose piece has the very same pixels (on every face, read from this face): the classes
    :func:`score` counts as one piece with ``alike``. Stems are lower-cased.

    >>> import numpy as np
    >>> from kexue.unshred.pieces import Pieces
    >>> ink = np.zeros((3, 1, 2, 2)); ink[2, 0, 0, 0] = 1.0   # pieces 0 and 1 both blank
    >>> alike_pieces(Pieces(["p0", "p1", "p2"], ("",), ink))
    {'p0': 'p0', 'p1': 'p0', 'p2': 'p2'}
    """
    import numpy as np

    first: dict[bytes, str] = {}
    out = {}
    q = np.round(np.asarray(pieces.ink) * 255).astype(np.uint8)
    for k in range(pieces.n):
        for f in range(len(pieces.faces)):
            key = b"".join(q[k, (f + j) % len(pieces.faces)].tobytes() for j in range(len(pieces.faces)))
            stem = pieces.face_stem(k, f).lower()
            out[stem] = first.setdefault(key, stem)
    return out


def _pairs(grid):
    lr = Counter((a, b) for row in grid for a, b in zip(row[:-1], row[1:], strict=True))
    tb = Counter((a, b) for r1, r2 in zip(grid[:-1], grid[1:], strict=True) for a, b in zip(r1, r2, strict=True))
    return lr, tb


def _score_one(true, got) -> dict:
    tl, tt = _pairs(true)
    gl, gt = _pairs(got)
    n_lr, n_tb = sum(tl.values()), sum(tt.values())
    kept_lr, kept_tb = sum((tl & gl).values()), sum((tt & gt).values())
    cells = [(r, c) for r in range(len(true)) for c in range(len(true[0]))]
    same_shape = len(got) == len(true) and all(len(g) == len(true[0]) for g in got)
    direct = sum(got[r][c] == true[r][c] for r, c in cells) / len(cells) if same_shape else 0.0
    nb = (kept_lr + kept_tb) / (n_lr + n_tb) if n_lr + n_tb else float(same_shape and direct == 1.0)
    return {"neighbour": nb, "lr": kept_lr / n_lr if n_lr else 1.0, "tb": kept_tb / n_tb if n_tb else 1.0,
            "direct": direct, "perfect": bool(same_shape and direct == 1.0)}


def score(true_grid: list[list[str]], grid: list[list[str]], true_back: list[list[str]] | None = None,
          alike: dict[str, str] | None = None) -> dict:
    """Neighbour accuracy, direct accuracy and perfection of ``grid`` against ``true_grid``.
    With ``true_back`` (two-sided sets) the result may show either page as front; the better
    reading counts. With ``alike`` (:func:`alike_pieces`) pieces of identical pixels count as
    one (pairs are then compared as multisets). Stems are compared without case.

    >>> t = [["a", "b", "c"], ["d", "e", "f"]]
    >>> score(t, t)["perfect"], score(t, [["b", "c", "a"], ["d", "e", "f"]])["neighbour"]
    (True, 0.42857142857142855)
    >>> score(t, [["a", "b", "c"], ["d", "f", "e"]])["neighbour"]         # e and f changed places
    0.42857142857142855
    >>> score(t, [["a", "b", "c"], ["d", "f", "e"]], alike={"f": "e"})["perfect"]  # ... but look alike
    True
    """
    def norm(g):
        return [[(alike or {}).get(s.lower(), s.lower()) for s in row] for row in g]

    best = _score_one(norm(true_grid), norm(grid))
    if true_back is not None:
        other = _score_one(norm(true_back), norm(grid))
        if other["neighbour"] > best["neighbour"]:
            best = other | {"front_is": "back"}
    return best
