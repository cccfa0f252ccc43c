"""The kexue command: mounting, --json, exit codes, data verbs, reproduce."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

SHARED = Path(os.environ.get("KEXUE_DATA", "")).expanduser()


def test_nonsense_exits_2_with_one_line():
    code, out, err = run_cli("nonsense")
    assert code == 2 and "No such command" in err and len(err.strip().splitlines()) == 1


def test_bad_option_exits_2():
    code, _, err = run_cli("data", "list", "--bogus")
    assert code == 2 and "--bogus" in err


def test_version_and_help():
    from kexue import __version__

    assert run_cli("--version")[1].strip() == f"kexue {__version__}"
    code, out, _ = run_cli("--help")
    assert code == 0 and "reproduce" in out and "data" in out


def test_data_list_json_is_one_object(isolated_cache):
    code, out, _ = run_cli("data", "list", "--json")
    doc = json.loads(out)  # exactly one JSON document
    names = {d["name"]: d for d in doc["datasets"]}
    assert code == 0 and set(names) == {"cumcm2013b", "fashion-mnist", "mnist", "ptb"}
    if (SHARED / "ptb").is_dir():
        assert names["ptb"]["status"] == "partial" and names["mnist"]["status"] == "complete"


@pytest.mark.skipif(not (SHARED / "mnist").is_dir(), reason="needs KEXUE_DATA")
def test_verify_corrupt_copy_exits_2_without_traceback(tmp_path, isolated_cache):
    dest = tmp_path / "mnist"
    shutil.copytree(SHARED / "mnist", dest)
    victim = dest / "train-labels-idx1-ubyte.gz"
    victim.chmod(0o644)
    raw = bytearray(victim.read_bytes())
    raw[100] ^= 1
    victim.write_bytes(bytes(raw))
    env = os.environ | {"KEXUE_DATA": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "kexue", "data", "verify", "mnist"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "train-labels-idx1-ubyte.gz" in proc.stderr and "Traceback" not in proc.stderr
    ok = subprocess.run([sys.executable, "-m", "kexue", "data", "verify", "mnist", "cumcm2013b"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr


def test_unknown_dataset_is_user_error():
    code, _, err = run_cli("data", "verify", "imagenet")
    assert code == 2 and "unknown data set 'imagenet'" in err


def test_reproduce_writes_data_table(tmp_path, isolated_cache):
    code, out, _ = run_cli("reproduce", "--quick", "--out", str(tmp_path / "rep"), "--only", "data", "--json")
    assert code == 0
    doc = json.loads(out)
    page = (tmp_path / "rep" / "index.html").read_text()
    assert doc["report"].endswith("index.html") and doc["sections"][0]["topic"] == "data"
    assert "Data sets" in page and "fashion-mnist" in page and "<script" not in page
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["quick"] is True


def test_reproduce_unknown_topic_exits_2(tmp_path):
    code, _, err = run_cli("reproduce", "--only", "astrology", "--out", str(tmp_path))
    assert code == 2 and "astrology" in err


def test_broken_topic_warns_but_the_rest_works(monkeypatch, capsys):
    import kexue.cli as cli

    real = cli.importlib.import_module

    def fake(name):
        if name == "kexue.nn.cli":
            raise RuntimeError("syntax slip")
        if name.endswith(".cli"):
            raise ModuleNotFoundError(name=name)
        return real(name)

    monkeypatch.setattr(cli.importlib, "import_module", fake)
    monkeypatch.setattr(cli, "TOPICS", ("nn", "vae"))
    cli._mount_topics()
    assert "topic 'nn' could not be loaded" in capsys.readouterr().err
    code, out, _ = run_cli("data", "list", "--json")
    assert code == 0 and json.loads(out)["datasets"]
