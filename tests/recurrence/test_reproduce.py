"""The report section: every check against the article's and the anchors' numbers passes (quick mode)."""

from kexue.recurrence.reproduce import reproduce


def test_reproduce_quick(tmp_path):
    s = reproduce(tmp_path, quick=True)
    assert s.failed == 0 and s.passed >= 40, [c for c in s.checks if not c.passed]
    assert all(f.path.exists() and f.path.stat().st_size < 200_000 for f in s.figures)
