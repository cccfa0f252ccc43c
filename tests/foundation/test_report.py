"""The report: sections, isolation of a failing topic, self-contained HTML."""

import sys
import types

import numpy as np
from PIL import Image

from kexue import report
from kexue.errors import DataMissingError


def _fake_topic(monkeypatch, name, fn):
    pkg = types.ModuleType(f"kexue.{name}")
    mod = types.ModuleType(f"kexue.{name}.reproduce")
    mod.reproduce = fn
    monkeypatch.setitem(sys.modules, f"kexue.{name}", pkg)
    monkeypatch.setitem(sys.modules, f"kexue.{name}.reproduce", mod)


def test_failing_topic_does_not_stop_the_others(tmp_path, monkeypatch):
    def good(out_dir, quick):
        s = report.Section("good", "A good topic")
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(out_dir / "fig.png")
        s.figure(out_dir / "fig.png", "a black square")
        s.check("one is one", 1 == 1, 1, 1)
        s.check("a failing comparison", False, 2, 3)
        s.table("numbers", ["a", "b"], [[1, "<x>"]])
        return s

    def bad(out_dir, quick):
        raise ZeroDivisionError("boom")

    def needs_data(out_dir, quick):
        raise DataMissingError("data set 'mnist' lacks files; put them in X")

    _fake_topic(monkeypatch, "good", good)
    _fake_topic(monkeypatch, "bad", bad)
    _fake_topic(monkeypatch, "hungry", needs_data)
    monkeypatch.setattr(report, "TOPICS", ("bad", "good", "hungry", "absent"))
    sections = report.reproduce(tmp_path, quick=True)
    by = {s.topic: s for s in sections}
    assert set(by) == {"data", "bad", "good", "hungry"}  # a topic with no reproduce is left out
    assert by["bad"].status == "failed" and "ZeroDivisionError" in by["bad"].error
    assert by["good"].status == "ok" and (by["good"].passed, by["good"].failed) == (1, 1)
    assert by["hungry"].status == "skipped" and "put them in" in by["hungry"].error
    page = (tmp_path / "index.html").read_text()
    assert "data:image/png;base64," in page and "&lt;x&gt;" in page and "boom" in page
    only = report.reproduce(tmp_path / "o", quick=True, only=["good"])
    assert [s.topic for s in only] == ["data", "good"]
