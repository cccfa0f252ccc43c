"""Pictures of a solution: the assembled page(s) and the page with its least certain seams marked."""

from __future__ import annotations

import numpy as np

from .solver import Solution


def render(solution: Solution, back: bool = False) -> np.ndarray:
    """The assembled page as a grey uint8 image (``back=True``: the back page, read normally).

    >>> from kexue.unshred.synth import text_page, shred
    >>> from kexue.unshred.solver import solve
    >>> page = text_page(720, 1000, seed=4)
    >>> s = shred(page, 4, 5, seed=0)
    >>> out = render(solve(s.pieces))
    >>> out.shape, bool((out == page[:1000 // 4 * 4, :720 // 5 * 5]).all())
    ((1000, 720), True)
    """
    p = solution.pieces
    if back and not p.two_sided:
        raise ValueError("a one-sided set has no back page")
    rows = []
    for row in solution.index:
        faces = []
        for k in (row[::-1] if back else row):
            f = int(solution.front[k])
            faces.append(p.ink[k, 1 - f if back else f])
        rows.append(np.concatenate(faces, axis=1))
    ink = np.concatenate(rows, axis=0)
    return np.clip(np.rint(255.0 * (1.0 - ink)), 0, 255).astype(np.uint8)


def confidence_image(solution: Solution, k: int = 10) -> np.ndarray:
    """RGB image of the front page with piece borders in light blue, the ``k`` least certain
    seams drawn in red (thicker = less certain) and a band in orange down the left margin of every
    block of rows that could trade places with another at no cost (:attr:`Solution.ties`), so a
    person knows where to look.

    >>> from kexue.unshred.synth import text_page, shred
    >>> from kexue.unshred.solver import solve
    >>> confidence_image(solve(shred(text_page(720, 1000, seed=4), 4, 5).pieces)).shape
    (1000, 720, 3)
    """
    page = render(solution)
    h, w = solution.pieces.shape
    rgb = np.repeat(page[:, :, None], 3, axis=2).astype(np.uint8)
    blue = np.array([150, 190, 255], np.uint8)
    for c in range(1, solution.cols):
        rgb[:, c * w, :] = np.minimum(rgb[:, c * w, :], blue)
    for r in range(1, solution.rows):
        rgb[r * h, :, :] = np.minimum(rgb[r * h, :, :], blue)
    red = np.array([230, 20, 20], np.uint8)
    for seam in solution.weakest_seams(k):
        t = 1 + int(round(4 * (1 - seam["confidence"])))
        r, c = seam["row"], seam["col"]
        if seam["kind"] == "lr":
            x = (c + 1) * w
            rgb[r * h:(r + 1) * h, max(0, x - t):x + t] = red
        else:
            y = (r + 1) * h
            rgb[max(0, y - t):y + t, c * w:(c + 1) * w] = red
    orange = np.array([255, 150, 0], np.uint8)
    for block in {blk for pair in solution.ties for blk in pair}:
        rgb[block[0] * h + 2:(block[1] + 1) * h - 2, :max(2, w // 8)] = orange
    return rgb
