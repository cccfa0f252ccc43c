"""Pages that were never seen: render a page of text, shred it, know the truth.

:func:`text_page` draws pseudo-English text with an installed TrueType font (DejaVu, Liberation,
Noto... found under ``/usr/share/fonts``) or PIL's built-in font; :func:`shred` cuts any page
(one- or two-sided, optional scanner-like grey noise) into shuffled, renamed pieces and keeps the
true grid, so a solver can be scored without any answer file.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError, UsageError
from .pieces import Pieces

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


@lru_cache(maxsize=1)
def find_fonts() -> tuple[Path, ...]:
    """Installed TrueType/OpenType fonts for Latin text (regular faces first).

    >>> isinstance(find_fonts(), tuple)
    True
    """
    out = []
    for d in FONT_DIRS:
        if d.is_dir():
            out += [p for p in d.rglob("*") if p.suffix.lower() in (".ttf", ".otf")]
    bad = ("Math", "Symbol", "Emoji", "Oblique", "Italic", "Bold", "ExtraLight")
    good = sorted(p for p in out if not any(b in p.name for b in bad))
    return tuple(good + sorted(p for p in out if p not in good))


@lru_cache(maxsize=1)
def find_cjk_fonts() -> tuple[Path, ...]:
    """Installed fonts with Chinese glyphs (WenQuanYi, Noto CJK, Droid Sans Fallback, AR PL...),
    empty when there is none.

    >>> isinstance(find_cjk_fonts(), tuple)
    True
    """
    keys = ("wqy", "cjk", "droidsansfallback", "uming", "ukai", "simsun", "simhei", "notosanssc", "sourcehan")
    out = []
    for d in FONT_DIRS:
        if d.is_dir():
            out += [p for p in d.rglob("*") if p.suffix.lower() in (".ttf", ".otf", ".ttc")
                    and any(k in p.name.lower().replace("-", "").replace("_", "") for k in keys)]
    return tuple(sorted(out))


def _hanzi(rng: np.random.Generator, n: int) -> list[str]:
    """Random Chinese characters (common range) with a comma or full stop now and then."""
    out = []
    for _ in range(n):
        u = rng.random()
        out.append("，" if u < 0.06 else "。" if u < 0.09 else chr(int(rng.integers(0x4E00, 0x9FA6))))
    return out


def _words(rng: np.random.Generator, n: int) -> list[str]:
    vowels, cons = "aeiouy", "bcdfghjklmnprstvwz"
    words = []
    for _ in range(n):
        k = int(rng.integers(1, 10))
        w = "".join(rng.choice(list(cons if i % 2 == 0 else vowels)) for i in range(k))
        if rng.random() < 0.12:
            w = w.capitalize()
        if rng.random() < 0.1:
            w += str(rng.choice(list(",.;:")))
        words.append(w)
    return words


def text_page(width: int = 720, height: int = 1000, font_size: int | None = None, seed: int = 0,
              font: str | Path | None = None, margin: int | None = None, line_spacing: float = 1.5,
              justify: bool = True, lang: str = "en") -> np.ndarray:
    """A grey page (uint8, 255 = white) of pseudo-English paragraphs (justified, as printed pages
    are, unless ``justify=False``), or with ``lang="zh"`` of random Chinese characters set on a
    grid (needs a Chinese font, see :func:`find_cjk_fonts`), for round-trip tests.

    >>> p = text_page(360, 500, seed=1)
    >>> p.shape, p.dtype.name, int(p.min()) < 100, int(p.max())
    ((500, 360), 'uint8', True, 255)
    """
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    if font_size is None:
        font_size = max(10, width // 36)
    if margin is None:
        margin = max(8, width // 60)
    if lang not in ("en", "zh"):
        raise UsageError(f"lang must be 'en' or 'zh', not {lang!r}")
    if lang == "zh":
        fonts = [Path(font)] if font else list(find_cjk_fonts())
        if not fonts:
            raise InputError("no Chinese font is installed (e.g. apt install fonts-wqy-microhei)")
    else:
        fonts = [Path(font)] if font else list(find_fonts())
    if fonts:
        chosen = fonts[int(rng.integers(0, min(len(fonts), 6)))] if not font else fonts[0]
        try:
            face = ImageFont.truetype(str(chosen), font_size)
        except OSError as e:
            raise InputError(f"cannot read font {chosen}: {e}") from None
    else:  # pragma: no cover - depends on the machine
        face = ImageFont.load_default(size=font_size) if hasattr(ImageFont, "load_default") else None
    if lang == "zh":
        return _hanzi_page(width, height, font_size, margin, line_spacing, face, rng)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    pitch = int(round(font_size * line_spacing))
    y = margin
    words = _words(rng, 4000)
    wi = 0
    indent = 3 * font_size
    x0 = margin + indent
    while y + pitch <= height - margin:
        line, x = [], x0
        while wi < len(words):
            w = words[wi]
            wlen = draw.textlength(w + " ", font=face)
            if x + wlen > width - margin and line:
                break
            line.append(w)
            x += wlen
            wi += 1
            if rng.random() < 0.012:  # end of paragraph
                line.append("\n")
                break
        words_ = [t for t in line if t != "\n"]
        last = bool(line) and line[-1] == "\n"
        if justify and not last and len(words_) > 1:  # spread the spare width over the gaps
            widths = [draw.textlength(t, font=face) for t in words_]
            gap = (width - margin - x0 - sum(widths)) / (len(words_) - 1)
            x = float(x0)
            for t, wlen in zip(words_, widths, strict=True):
                draw.text((round(x), y), t, fill=0, font=face)
                x += wlen + gap
        else:
            draw.text((x0, y), " ".join(words_), fill=0, font=face)
        y += pitch
        x0 = margin + (indent if line and line[-1] == "\n" else 0)
    return np.asarray(img, dtype=np.uint8)


def _hanzi_page(width, height, font_size, margin, line_spacing, face, rng) -> np.ndarray:
    """Chinese text as printed: one character per cell of a fixed grid, paragraphs indented by two
    cells, a short last line at each paragraph's end."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    pitch = int(round(font_size * line_spacing))
    per_line = max(1, (width - 2 * margin) // font_size)
    y, col = margin, 2
    chars = _hanzi(rng, 20000)
    ci = 0
    while y + pitch <= height - margin:
        end = per_line
        if rng.random() < 0.08:  # a paragraph ends on this line
            end = int(rng.integers(col + 1, per_line + 1))
        for c in range(col, end):
            draw.text((margin + c * font_size, y), chars[ci % len(chars)], fill=0, font=face)
            ci += 1
        col = 2 if end < per_line else 0
        y += pitch
    return np.asarray(img, dtype=np.uint8)


@dataclass
class Shredded:
    """The pieces of a shredded page and the truth: ``true_grid`` (stems, with face for two-sided),
    ``true_back`` (the back page's grid read normally) and ``true_front`` (per piece, which face is
    on the front page)."""

    pieces: Pieces
    images: dict[str, np.ndarray]
    true_grid: list[list[str]]
    true_back: list[list[str]] | None
    true_front: np.ndarray


def shred(page: np.ndarray, rows: int, cols: int, seed: int = 0, back: np.ndarray | None = None,
          noise: float = 0.0) -> Shredded:
    """Cut ``page`` (grey uint8, or colour which is turned grey) into ``rows`` x ``cols`` shuffled
    pieces named ``000``, ``001``... (``000a``/``000b`` when a ``back`` page is given: the back of the
    piece at (r, c) is the back page's piece at (r, cols-1-c), and which face is ``a`` is random).
    ``noise`` adds grey noise of that standard deviation (scanner-like). Edges that do not divide
    evenly are cropped.

    >>> s = shred(np.zeros((10, 12), np.uint8), 2, 3, seed=0)
    >>> s.pieces.n, s.pieces.shape, len(s.true_grid), len(s.true_grid[0])
    (6, (5, 4), 2, 3)
    """
    if rows < 1 or cols < 1:
        raise UsageError("rows and cols must be at least 1")
    page = _grey(page)
    H, W = page.shape
    h, w = H // rows, W // cols
    if h < 3 or w < 3:
        raise UsageError(f"a {H}x{W} page cannot be cut into {rows}x{cols} pieces of at least 3x3 px")
    if back is not None:
        back = _grey(back)
        if back.shape != page.shape:
            raise UsageError(f"the back page is {back.shape[0]}x{back.shape[1]}, the front {H}x{W}; they must match")
    rng = np.random.default_rng(seed)
    n = rows * cols
    perm = rng.permutation(n)  # perm[cell] = id number
    digits = max(3, len(str(n - 1)))
    ids = [f"{k:0{digits}d}" for k in range(n)]
    flips = rng.random(n) < 0.5 if back is not None else np.zeros(n, bool)  # True: front is face b
    images: dict[str, np.ndarray] = {}
    faces: dict[int, list[np.ndarray]] = {}
    for r in range(rows):
        for c in range(cols):
            k = int(perm[r * cols + c])
            f = page[r * h:(r + 1) * h, c * w:(c + 1) * w]
            if back is None:
                faces[k] = [f]
            else:
                cb = cols - 1 - c
                b = back[r * h:(r + 1) * h, cb * w:(cb + 1) * w]
                faces[k] = [b, f] if flips[k] else [f, b]
    for k in range(n):
        out = []
        for im in faces[k]:
            x = im.astype(np.float64)
            if noise > 0:
                x = x + rng.normal(0.0, noise, x.shape)
            out.append(np.clip(np.rint(x), 0, 255).astype(np.uint8))
        faces[k] = out
    suffixes = ("a", "b") if back is not None else ("",)
    for k in range(n):
        for s, im in zip(suffixes, faces[k], strict=True):
            images[ids[k] + s] = im
    ink = 1.0 - np.stack([np.stack(faces[k]) for k in range(n)]).astype(np.float32) / 255.0
    pieces = Pieces(ids, suffixes, ink, source="shred")
    true_front = flips.astype(int)
    grid = [[ids[int(perm[r * cols + c])] + (suffixes[true_front[perm[r * cols + c]]] if back is not None else "")
             for c in range(cols)] for r in range(rows)]
    true_back = None
    if back is not None:
        true_back = [[ids[int(perm[r * cols + c])] + suffixes[1 - true_front[perm[r * cols + c]]]
                      for c in reversed(range(cols))] for r in range(rows)]
    return Shredded(pieces, images, grid, true_back, true_front)


def _grey(page: np.ndarray) -> np.ndarray:
    page = np.asarray(page)
    if page.ndim == 3:
        page = (page[..., :3].astype(np.float64) @ [0.299, 0.587, 0.114]).round().clip(0, 255).astype(np.uint8)
    if page.ndim != 2:
        raise UsageError("a page must be a 2-D grey or 3-D colour image")
    return page.astype(np.uint8)


def write_shredded(s: Shredded, out_dir: str | Path, fmt: str = "png") -> Path:
    """Write the pieces as images into ``out_dir`` and the truth into ``out_dir/truth/``
    (``grid.csv`` and, for two-sided sets, ``grid_back.csv``).

    >>> import tempfile
    >>> d = write_shredded(shred(np.zeros((10, 12), np.uint8), 2, 3), tempfile.mkdtemp())
    >>> sorted(p.name for p in d.iterdir())[:2], (d / "truth" / "grid.csv").exists()
    (['000.png', '001.png'], True)
    """
    from PIL import Image

    from ..utils import atomic_path, atomic_write

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stem, im in s.images.items():
        with atomic_path(out / f"{stem}.{fmt}") as tmp:
            Image.fromarray(im).save(tmp, format=fmt.upper() if fmt != "jpg" else "JPEG")
    atomic_write(out / "truth" / "grid.csv", grid_to_csv(s.true_grid))
    if s.true_back is not None:
        atomic_write(out / "truth" / "grid_back.csv", grid_to_csv(s.true_back))
    return out


def grid_to_csv(grid: list[list[str]]) -> str:
    """The CSV text of a grid, in the format of the CUMCM answer files.

    >>> grid_to_csv([["008", "014"], ["001", "002"]])
    '008,014\\n001,002\\n'
    """
    return "".join(",".join(row) + "\n" for row in grid)


_ = string  # (kept for users extending the word generator)
