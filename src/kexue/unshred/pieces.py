"""Loading shredded pieces and working out the page layout.

A set of pieces is a :class:`Pieces`: the piece ids (file stems), and the grey images as an
array of *ink* values (0 = white paper, 1 = black) of shape ``(n, faces, H, W)``. One-sided
pieces have one face; two-sided pieces have two (``a`` then ``b``), both stored as read from
the files (each face readable as it is).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, UsageError

IMAGE_SUFFIXES = (".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".webp")
PAGE_ASPECT = math.sqrt(2.0)  # height / width of a portrait page (A4 and its kin)


@dataclass
class Pieces:
    """A set of same-size pieces: ``ids`` (one per physical piece), ``faces`` (the face suffixes,
    ``("",)`` for one-sided sets or ``("a", "b")``) and ``ink`` of shape ``(n, len(faces), H, W)``
    with values in [0, 1] (1 = black ink).

    >>> p = Pieces(["x", "y"], ("",), np.zeros((2, 1, 4, 3)))
    >>> p.n, p.shape, p.two_sided
    (2, (4, 3), False)
    """

    ids: list[str]
    faces: tuple[str, ...]
    ink: np.ndarray
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of physical pieces."""
        return len(self.ids)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of one piece in pixels."""
        return int(self.ink.shape[2]), int(self.ink.shape[3])

    @property
    def two_sided(self) -> bool:
        """True when every piece has a front and a back face."""
        return len(self.faces) == 2

    def face_stem(self, k: int, face: int) -> str:
        """The file stem of face ``face`` of piece ``k`` (``"007"`` or ``"007b"``)."""
        return self.ids[k] + self.faces[face]


def _read_grey(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "P"):
                im = im.convert("RGBA")
                bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(bg, im)
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as e:
        raise InputError(f"{path} is not a readable image ({e}); remove it from the pieces folder") from None


def load_pieces(folder: str | Path, double_sided: bool | None = None) -> Pieces:
    """Read every image in ``folder`` (bmp, png, jpg, tif...; colour is turned to grey).

    A piece's id is its file stem. Two-sided sets are recognised from stems that come in
    ``a``/``b`` pairs (``000a.bmp`` and ``000b.bmp``), or forced with ``double_sided=True``.
    Raises :class:`~kexue.errors.InputError` for a missing or empty folder, unreadable files,
    pieces of different sizes and ``a`` faces without their ``b`` partner.

    >>> from kexue.data import cumcm_attachment
    >>> load_pieces(cumcm_attachment(3)).ink.shape  # doctest: +SKIP
    (209, 1, 180, 72)
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError(f"pieces folder {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; give the folder that holds the piece images")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        raise InputError(f"no piece images (bmp, png, jpg, tif) in {folder}")
    stems = [p.stem for p in images]
    if len(set(stems)) != len(stems):
        dup = sorted({s for s in stems if stems.count(s) > 1})
        raise InputError(f"two files share the piece id {dup[0]!r} in {folder}; keep one image per piece")
    arrays = {p.stem: _read_grey(p) for p in images}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) > 1:
        by = {}
        for s, a in arrays.items():
            by.setdefault(a.shape, s)
        desc = ", ".join(f"{h}x{w} px (e.g. {s})" for (h, w), s in sorted(by.items()))
        raise InputError(f"the pieces differ in size ({desc}); all pieces of one page must be the same size")
    pair = re.compile(r"^(.*)([abAB])$")
    matched = [pair.match(s) for s in stems]
    looks_paired = all(matched) and len(stems) % 2 == 0
    if double_sided is None:
        double_sided = False
        if looks_paired:
            base = {m.group(1) for m in matched}
            double_sided = len(base) * 2 == len(stems)
    if double_sided:
        if not all(matched):
            bad = next(s for s, m in zip(stems, matched, strict=True) if not m)
            raise InputError(f"two-sided pieces need stems ending in a or b (like 000a, 000b); {bad!r} does not")
        faces_of: dict[str, dict[str, str]] = {}
        for s, m in zip(stems, matched, strict=True):
            faces_of.setdefault(m.group(1), {})[m.group(2).lower()] = s
        lonely = sorted(b for b, f in faces_of.items() if len(f) != 2)
        if lonely:
            have = faces_of[lonely[0]]
            miss = "b" if "a" in have else "a"
            raise InputError(f"piece {lonely[0]!r} has no {miss!r} face ({len(lonely)} piece(s) lack a partner); "
                             "a two-sided set needs both faces of every piece")
        ids = sorted(faces_of)
        suffix = [next(iter(faces_of[ids[0]].values()))[-1]] if ids else ["a"]
        upper = suffix[0].isupper()
        faces = ("A", "B") if upper else ("a", "b")
        ink = np.stack([np.stack([arrays[faces_of[b]["a"]], arrays[faces_of[b]["b"]]]) for b in ids])
    else:
        ids, faces = stems, ("",)
        ink = np.stack([arrays[s] for s in ids])[:, None]
    ink = 1.0 - ink.astype(np.float32) / 255.0
    return Pieces(ids, faces, ink, source=str(folder))


def layout_candidates(n: int, shape: tuple[int, int]) -> list[tuple[int, int, float]]:
    """Every (rows, cols) with rows * cols = n, with how far (log scale) the page it makes is
    from a portrait page of aspect sqrt(2); best first.

    >>> layout_candidates(209, (180, 72))[0][:2]
    (11, 19)
    >>> layout_candidates(19, (1980, 72))[0][:2]
    (1, 19)
    """
    h, w = shape
    out = []
    for r in range(1, n + 1):
        if n % r == 0:
            c = n // r
            out.append((r, c, abs(math.log(r * h / (c * w) / PAGE_ASPECT))))
    return sorted(out, key=lambda t: t[2])


def infer_layout(n: int, shape: tuple[int, int], rows: int | None = None, cols: int | None = None) -> tuple[int, int]:
    """Rows x cols of the page from the piece count and shape (or from ``rows``/``cols``).

    A layout is accepted when its page is within a factor 1.6 of a portrait page and clearly
    better (by 25 %) than the next candidate; otherwise the user must say ``rows``/``cols``.

    >>> infer_layout(209, (180, 72))
    (11, 19)
    >>> infer_layout(12, (100, 100), cols=4)
    (3, 4)
    """
    if n < 1:
        raise InputError("no pieces")
    for name, v in (("--rows", rows), ("--cols", cols)):
        if v is not None and v < 1:
            raise UsageError(f"{name} must be at least 1, got {v}")
    if rows is not None and cols is not None:
        if rows * cols != n:
            raise UsageError(f"--rows {rows} x --cols {cols} = {rows * cols}, but there are {n} pieces")
        return rows, cols
    if rows is not None or cols is not None:
        given = rows if rows is not None else cols
        if n % given:
            raise UsageError(f"{n} pieces cannot fill a grid with {given} {'rows' if rows else 'columns'}")
        return (rows, n // rows) if rows is not None else (n // cols, cols)
    cands = layout_candidates(n, shape)
    best = cands[0]
    options = ", ".join(f"{r}x{c}" for r, c, _ in cands[:4])
    if best[2] > math.log(1.6):
        raise UsageError(f"cannot tell the layout of {n} pieces of {shape[0]}x{shape[1]} px (no grid makes a "
                         f"page-shaped sheet; candidates {options}); give --rows and --cols")
    if len(cands) > 1 and cands[1][2] - best[2] < math.log(1.25):
        raise UsageError(f"the layout of {n} pieces of {shape[0]}x{shape[1]} px is ambiguous "
                         f"({cands[0][0]}x{cands[0][1]} or {cands[1][0]}x{cands[1][1]}); give --rows and --cols")
    return best[0], best[1]
