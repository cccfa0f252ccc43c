"""kexue.data: the registry against the real data sets, verification, loaders, lookup order."""

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from kexue import data
from kexue.errors import DataError, DataMissingError, UsageError

SHARED = Path(os.environ.get("KEXUE_DATA", "")).expanduser()
pytestmark = pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="needs KEXUE_DATA=../shared/data")


def test_registry_finds_all_four_sets(isolated_cache):
    status = {name: data.locate(name).status for name in data.registry()}
    assert status == {"cumcm2013b": "complete", "fashion-mnist": "complete", "mnist": "complete",
                      "ptb": "partial"}
    ptb = data.locate("ptb")
    assert ptb.missing == [] and ptb.missing_optional == ["ptb.train.txt"]
    assert data.locate("cumcm2013b").root == SHARED / "cumcm2013b"


def test_registry_lists_every_manifest_file():
    spec = data.spec("cumcm2013b")
    assert sum(f.path.endswith(".bmp") for f in spec.files) == 19 + 19 + 209 + 209 + 418
    assert all(f.sha256 and len(f.sha256) == 64 for f in spec.files)
    assert all(f.urls for f in data.spec("mnist").files)


@pytest.mark.parametrize("name", ["cumcm2013b", "mnist", "fashion-mnist", "ptb"])
def test_verify_real_sets(name, isolated_cache):
    loc = data.verify(name)
    assert loc.root == SHARED / name and not loc.missing


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / "data" / name
    shutil.copytree(SHARED / name, dest)
    for p in dest.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return tmp_path / "data"


def test_one_changed_byte_is_named(tmp_path, monkeypatch, isolated_cache):
    root = _copy("mnist", tmp_path)
    victim = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    victim.write_bytes(bytes(raw))
    monkeypatch.setenv("KEXUE_DATA", str(root))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        data.verify("mnist")


def test_truncated_file_is_named(tmp_path, monkeypatch, isolated_cache):
    root = _copy("ptb", tmp_path)
    victim = root / "ptb" / "ptb.test.txt"
    victim.write_bytes(victim.read_bytes()[:1000])
    monkeypatch.setenv("KEXUE_DATA", str(root))
    with pytest.raises(DataError, match=r"ptb\.test\.txt.*(truncated|size)"):
        data.verify("ptb")


def test_recompressed_and_decompressed_copies_verify(tmp_path, monkeypatch, isolated_cache):
    """Debian re-compresses Fashion-MNIST (other gzip header): the content hash must accept it."""
    root = tmp_path / "data" / "fashion-mnist"
    root.mkdir(parents=True)
    for f in data.spec("fashion-mnist").files:
        content = gzip.decompress((SHARED / "fashion-mnist" / f.path).read_bytes())
        if "labels" in f.path:
            (root / f.path).write_bytes(gzip.compress(content, mtime=0))  # other header, same content
        else:
            (root / f.path[:-3]).write_bytes(content)  # stored decompressed
    monkeypatch.setenv("KEXUE_DATA", str(tmp_path / "data"))
    assert data.verify("fashion-mnist").status == "complete"
    x, y = data.load_mnist("fashion-mnist", "test")
    assert x.shape == (10000, 28, 28) and np.bincount(y).tolist() == [1000] * 10


def test_system_location_is_searched(monkeypatch, tmp_path, isolated_cache):
    monkeypatch.setenv("KEXUE_DATA", str(tmp_path / "nothing-here"))
    monkeypatch.setattr(data, "SYSTEM_DIRS", (SHARED,))
    assert data.locate("fashion-mnist").root == SHARED / "fashion-mnist"


def test_lookup_order_env_before_cache(tmp_path, monkeypatch, isolated_cache):
    shutil.copytree(SHARED / "ptb", isolated_cache / "ptb")
    assert data.locate("ptb").root == SHARED / "ptb"  # $KEXUE_DATA first
    monkeypatch.delenv("KEXUE_DATA")
    assert data.locate("ptb").root == isolated_cache / "ptb"


def test_missing_set_and_offline_get(tmp_path, monkeypatch, isolated_cache):
    monkeypatch.setenv("KEXUE_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "SYSTEM_DIRS", ())
    assert data.locate("mnist").status == "missing"
    with pytest.raises(DataMissingError, match="KEXUE_DATA"):
        data.verify("mnist")
    with pytest.raises(DataMissingError, match="put the files"):
        data.get("mnist")  # KEXUE_OFFLINE=1 in tests
    with pytest.raises(DataMissingError, match="kexue data get mnist"):
        data.load_mnist("mnist", "test")


def test_idx_loader_shapes_and_label_counts():
    x, y = data.load_mnist("fashion-mnist", "train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == [6000] * 10
    x, y = data.load_mnist("mnist", "test")
    assert x.shape == (10000, 28, 28) and y.shape == (10000,)
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert 0 < x.mean() < 255 and x.max() == 255


def test_idx_corrupt_header_and_truncation(tmp_path):
    good = data.read_idx(SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz")
    raw = gzip.decompress((SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "short").write_bytes(raw[:-10])
    with pytest.raises(DataError, match="truncated"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "magic").write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(DataError, match="not an IDX file"):
        data.read_idx(tmp_path / "magic")
    (tmp_path / "badgz.gz").write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(DataError, match="corrupt gzip"):
        data.read_idx(tmp_path / "badgz.gz")
    (tmp_path / "ok").write_bytes(raw)
    assert np.array_equal(data.read_idx(tmp_path / "ok"), good)


def test_cumcm_and_ptb_loaders():
    folder = data.cumcm_attachment(3)
    assert len(list(folder.glob("*.bmp"))) == 209
    (front, back) = data.cumcm_answer(5)
    assert len(front) == 11 and all(len(r) == 19 for r in front)
    assert back[0][0][:3] == front[0][-1][:3]  # the back face is the front mirrored
    sents = data.ptb_sentences("valid")
    assert len(sents) == 3370 and sum(len(s) for s in sents) == 70390
    with pytest.raises(DataMissingError, match="ptb.train.txt"):
        data.ptb_sentences("train")
    with pytest.raises(UsageError):
        data.cumcm_attachment(6)
