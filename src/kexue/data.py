"""Data sets: find them, verify them (sha256), download them when asked, and read them.

Four data sets are known (see ``kexue data list``): ``cumcm2013b`` (the shredded pages of
CUMCM 2013 problem B), ``fashion-mnist``, ``mnist`` and ``ptb``. Each is looked for, in order, in

1. ``$KEXUE_DATA/<name>/`` (``KEXUE_DATA`` may hold several folders, separated by ``:``),
2. the user cache ``~/.cache/kexue/<name>/`` (``$KEXUE_CACHE`` or ``$XDG_CACHE_HOME`` move it),
3. system locations, such as ``/usr/share/datasets/fashion-mnist/`` where Debian's package
   ``dataset-fashion-mnist`` puts Fashion-MNIST,

and, only when asked (``kexue data get NAME`` or ``require(name, download=True)``), downloaded
into the user cache with a sha256 check. ``KEXUE_OFFLINE=1`` forbids every download.

>>> import kexue.data as data
>>> sorted(data.registry())
['cumcm2013b', 'fashion-mnist', 'mnist', 'ptb']
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import struct
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import DataError, DataMissingError, UsageError
from .utils import ProgressBar, atomic_path

SYSTEM_DIRS = (Path("/usr/share/datasets"), Path("/usr/local/share/datasets"))


@dataclass(frozen=True)
class FileSpec:
    """One file of a data set: where it lives in the set, how to check it, where to get it."""

    path: str
    size: int
    sha256: str | None = None
    md5: str | None = None
    content_sha256: str | None = None  # sha256 of the decompressed content of a .gz file
    urls: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    """A data set of the registry: its title, licence, home page and files."""

    name: str
    title: str
    licence: str
    homepage: str
    files: tuple[FileSpec, ...]

    @property
    def required(self) -> tuple[FileSpec, ...]:
        """The files without which the set is not usable."""
        return tuple(f for f in self.files if not f.optional)


@dataclass
class Location:
    """Where a data set was found on this machine and how complete it is there."""

    name: str
    root: Path | None
    present: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``complete``, ``partial`` (optional files missing), ``incomplete`` or ``missing``."""
        if self.root is None:
            return "missing"
        if self.missing:
            return "incomplete"
        return "partial" if self.missing_optional else "complete"

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "path": str(self.root) if self.root else None,
                "files_present": len(self.present), "missing": self.missing,
                "missing_optional": self.missing_optional}


@lru_cache(maxsize=1)
def registry() -> dict[str, DatasetSpec]:
    """Return the known data sets by name (read from the package's ``datasets.json``).

    >>> registry()["mnist"].files[0].path
    'train-labels-idx1-ubyte.gz'
    """
    raw = json.loads(resources.files("kexue").joinpath("datasets.json").read_text(encoding="utf-8"))
    out = {}
    for name, d in raw.items():
        files = tuple(FileSpec(path=f["path"], size=f["size"], sha256=f.get("sha256"), md5=f.get("md5"),
                               content_sha256=f.get("content_sha256"), urls=tuple(f.get("urls", ())),
                               optional=f.get("optional", False)) for f in d["files"])
        out[name] = DatasetSpec(name, d["title"], d["licence"], d["homepage"], files)
    return out


def spec(name: str) -> DatasetSpec:
    """Return the registry entry of ``name`` or raise a :class:`UsageError` listing the names."""
    reg = registry()
    if name not in reg:
        raise UsageError(f"unknown data set {name!r}; known: {', '.join(sorted(reg))}")
    return reg[name]


def cache_dir() -> Path:
    """The user cache folder of kexue (``~/.cache/kexue`` unless moved by the environment)."""
    if os.environ.get("KEXUE_CACHE"):
        return Path(os.environ["KEXUE_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "kexue"


def search_dirs(name: str) -> list[Path]:
    """The folders looked at for data set ``name``, in lookup order."""
    dirs = [Path(p).expanduser() / name for p in os.environ.get("KEXUE_DATA", "").split(os.pathsep) if p]
    dirs.append(cache_dir() / name)
    dirs.extend(d / name for d in SYSTEM_DIRS)
    return dirs


def _file_in(root: Path, f: FileSpec) -> Path | None:
    """The file ``f`` in ``root``, as stored or (for ``.gz``) already decompressed."""
    p = root / f.path
    if p.is_file():
        return p
    if f.path.endswith(".gz") and (root / f.path[:-3]).is_file():
        return root / f.path[:-3]
    return None


def locate(name: str) -> Location:
    """Find data set ``name`` in the search folders.

    The first folder where the set is complete wins; failing that, the first with every
    required file; failing that, the first with any of them.

    >>> locate("mnist").status in {"complete", "partial", "incomplete", "missing"}
    True
    """
    s = spec(name)
    found = []
    for root in search_dirs(name):
        if not root.is_dir() or not any(_file_in(root, f) for f in s.required):
            continue
        loc = Location(name, root)
        for f in s.files:
            if _file_in(root, f):
                loc.present.append(f.path)
            else:
                (loc.missing_optional if f.optional else loc.missing).append(f.path)
        found.append(loc)
    if found:
        rank = {"complete": 0, "partial": 1, "incomplete": 2}
        return min(found, key=lambda loc: rank[loc.status])  # min is stable: lookup order breaks ties
    return Location(name, None, missing=[f.path for f in s.required],
                    missing_optional=[f.path for f in s.files if f.optional])


def where_to_put(name: str) -> str:
    """A sentence telling a user where the files of ``name`` can be put by hand."""
    dirs = search_dirs(name)
    return (f"put the files of {name!r} in {dirs[0]} (or any folder named in $KEXUE_DATA), "
            f"or run `kexue data get {name}` on a machine that is online")


def _digest(path: Path, algo: str, decompress: bool = False) -> str:
    h = hashlib.new(algo)
    opener = gzip.open if decompress else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def check_file(path: Path, f: FileSpec) -> str | None:
    """Return ``None`` if ``path`` holds the file ``f`` (by size and hash), else what is wrong."""
    gz_stored = path.name.endswith(".gz")
    size = path.stat().st_size
    if gz_stored and f.sha256 and size == f.size and _digest(path, "sha256") == f.sha256:
        return None
    try:
        if f.content_sha256 is not None:  # a re-compressed (Debian) or decompressed copy
            got = _digest(path, "sha256", decompress=gz_stored)
            return None if got == f.content_sha256 else "content sha256 differs"
    except (OSError, EOFError, zlib.error) as e:
        return f"not a readable gzip file ({e})"
    if size != f.size:
        return f"size is {size} bytes, expected {f.size} (truncated or changed)"
    if f.sha256:
        return None if _digest(path, "sha256") == f.sha256 else "sha256 differs"
    if f.md5:
        return None if _digest(path, "md5") == f.md5 else "md5 differs"
    return None


def verify(name: str) -> Location:
    """Check every present file of ``name`` against its size and checksum.

    Raises :class:`DataMissingError` if the set or a required file is missing, and
    :class:`DataError` naming each changed or truncated file.

    >>> verify("mnist").status  # doctest: +SKIP
    'complete'
    """
    loc = locate(name)
    if loc.root is None:
        raise DataMissingError(f"data set {name!r} not found; {where_to_put(name)}")
    if loc.missing:
        raise DataMissingError(f"data set {name!r} in {loc.root} lacks {len(loc.missing)} file(s): "
                               f"{', '.join(loc.missing[:5])}; {where_to_put(name)}")
    bad = []
    for f in spec(name).files:
        p = _file_in(loc.root, f)
        if p is not None and (why := check_file(p, f)):
            bad.append(f"{p}: {why}")
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise DataError(f"data set {name!r} has {len(bad)} corrupt file(s): {'; '.join(bad[:3])}{more}; "
                        f"delete them and run `kexue data get {name}`")
    return loc


def offline() -> bool:
    """True when downloads are forbidden (``KEXUE_OFFLINE=1``, as in tests and CI)."""
    return os.environ.get("KEXUE_OFFLINE", "") not in ("", "0")


def _download(f: FileSpec, dest: Path, quiet: bool | None) -> None:
    errors = []
    for url in f.urls:
        try:
            with urllib.request.urlopen(url, timeout=30) as resp, atomic_path(dest) as tmp:
                with open(tmp, "wb") as out, ProgressBar(f.size, f"{dest.name}", quiet=quiet) as bar:
                    while chunk := resp.read(1 << 16):
                        out.write(chunk)
                        bar.update(len(chunk))
                if why := check_file(tmp, f):
                    raise DataError(f"downloaded {dest.name} from {url}: {why}")
            return
        except (urllib.error.URLError, OSError, TimeoutError, DataError) as e:
            errors.append(f"{url}: {getattr(e, 'reason', e)}")
    raise DataMissingError(f"could not download {f.path} ({'; '.join(errors) or 'no public address'})")


def get(name: str, include_optional: bool = True, quiet: bool | None = None) -> Location:
    """Download the missing files of ``name`` into the user cache, checking each one's hash.

    Files already present in the first folder that has the set are not downloaded again; a set
    found nowhere is downloaded into ``cache_dir()/name``. Offline, raises
    :class:`DataMissingError` saying where to put the files by hand.
    """
    s = spec(name)
    loc = locate(name)
    todo = loc.missing + (loc.missing_optional if include_optional else [])
    todo = [f for f in s.files if f.path in todo and f.urls]
    if not todo:
        return loc
    if offline():
        raise DataMissingError(f"data set {name!r} needs downloading, but KEXUE_OFFLINE is set; "
                               f"{where_to_put(name)}")
    root = loc.root if loc.root is not None and os.access(loc.root, os.W_OK) else cache_dir() / name
    if root != loc.root and loc.root is not None:  # copy what is there, so the set is whole in one place
        for rel in loc.present:
            if not (root / rel).exists():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(loc.root / rel, root / rel)
    failures = []
    for f in todo:
        try:
            _download(f, root / f.path, quiet)
        except DataMissingError as e:
            failures.append(str(e))
    if failures:
        raise DataMissingError(f"{len(failures)} file(s) of {name!r} could not be downloaded "
                               f"(offline?): {failures[0]}; {where_to_put(name)}")
    return locate(name)


def require(name: str, files: list[str] | None = None, download: bool = False) -> Path:
    """Return the folder of data set ``name``, making sure ``files`` (default: required) are there.

    With ``download=True`` missing files are fetched (unless offline); otherwise a missing set
    raises :class:`DataMissingError` with instructions.
    """
    s = spec(name)
    wanted = files if files is not None else [f.path for f in s.required]
    loc = locate(name)
    lacking = [w for w in wanted if w not in loc.present]
    if lacking and download and not offline():
        loc = get(name, include_optional=any(w in loc.missing_optional for w in lacking))
        lacking = [w for w in wanted if w not in loc.present]
    if lacking or loc.root is None:
        raise DataMissingError(f"data set {name!r} lacks {', '.join(lacking[:3])}; {where_to_put(name)}")
    return loc.root


def file_path(name: str, rel: str, download: bool = False) -> Path:
    """The path of file ``rel`` of data set ``name`` (stored or decompressed form)."""
    f = next((f for f in spec(name).files if f.path == rel), None)
    if f is None:
        raise UsageError(f"data set {name!r} has no file {rel!r}")
    root = require(name, [rel], download=download)
    p = _file_in(root, f)
    assert p is not None
    return p


# ----------------------------------------------------------------------------- loaders
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a numpy array.

    The header (magic, element type, dimensions) is checked against the file length, so a
    corrupt or truncated file raises :class:`DataError` naming it.

    >>> images = read_idx(file_path("mnist", "t10k-images-idx3-ubyte.gz"))  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((10000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt gzip stream ({e}); delete it and run `kexue data get`") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: IDX header truncated")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = 4 + 4 * ndim + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"{path}: IDX header says {dims} ({expected} bytes) but the file has "
                        f"{len(raw)} bytes (truncated or corrupt)")
    arr = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=False)


def load_mnist(name: str = "mnist", split: str = "train", download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8 of MNIST or Fashion-MNIST.

    >>> x, y = load_mnist("fashion-mnist", "test")  # doctest: +SKIP
    >>> x.shape, int(y.max())  # doctest: +SKIP
    ((10000, 28, 28), 9)
    """
    if name not in ("mnist", "fashion-mnist"):
        raise UsageError(f"load_mnist reads 'mnist' or 'fashion-mnist', not {name!r}")
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise UsageError(f"split must be 'train' or 'test', not {split!r}")
    x = read_idx(file_path(name, f"{prefix}-images-idx3-ubyte.gz", download))
    y = read_idx(file_path(name, f"{prefix}-labels-idx1-ubyte.gz", download))
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DataError(f"{name} {split}: images {x.shape} and labels {y.shape} do not match")
    return x, y


def cumcm_attachment(n: int, download: bool = False) -> Path:
    """The folder of CUMCM 2013 B attachment ``n`` (1-5), holding its piece images.

    >>> sorted(cumcm_attachment(1).glob("*.bmp"))[0].name  # doctest: +SKIP
    '000.bmp'
    """
    if n not in range(1, 6):
        raise UsageError(f"CUMCM 2013 B has attachments 1 to 5, not {n}")
    root = require("cumcm2013b", [f.path for f in spec("cumcm2013b").files
                                  if f.path.startswith(f"attachment{n}/")], download=download)
    return root / f"attachment{n}"


CUMCM_ANSWERS = {1: ["attachment1_order.csv"], 2: ["attachment2_order.csv"], 3: ["attachment3_grid.csv"],
                 4: ["attachment4_grid.csv"], 5: ["attachment5_front_grid.csv", "attachment5_back_grid.csv"]}


def cumcm_answer(n: int) -> list[list[list[str]]]:
    """The verified answer grid(s) of attachment ``n``: a list of grids (front[, back]), each a list
    of rows of piece stems. For scoring and tests only; never read by a solver.
    """
    if n not in CUMCM_ANSWERS:
        raise UsageError(f"CUMCM 2013 B has attachments 1 to 5, not {n}")
    root = require("cumcm2013b", [f"answers/{a}" for a in CUMCM_ANSWERS[n]])
    return [[line.split(",") for line in (root / "answers" / a).read_text().split()] for a in CUMCM_ANSWERS[n]]


def ptb_sentences(split: str = "valid", download: bool = False) -> list[list[str]]:
    """The sentences of the Penn Treebank LM corpus as lists of tokens (one per line).

    ``split`` is ``train``, ``valid`` or ``test``; the training file is optional (it is not
    in every copy) and raises :class:`DataMissingError` with instructions when absent.

    >>> len(ptb_sentences("valid"))  # doctest: +SKIP
    3370
    """
    if split not in ("train", "valid", "test"):
        raise UsageError(f"PTB split must be train, valid or test, not {split!r}")
    p = file_path("ptb", f"ptb.{split}.txt", download)
    return [line.split() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
