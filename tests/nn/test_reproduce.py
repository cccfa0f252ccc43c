"""The report section (slow: it trains the CNN for an epoch)."""

import pytest

from kexue import data as kdata


@pytest.mark.slow
@pytest.mark.skipif(kdata.locate("fashion-mnist").status == "missing", reason="needs fashion-mnist")
def test_quick_reproduce_passes_its_checks(tmp_path):
    from kexue.nn.reproduce import reproduce

    s = reproduce(tmp_path, quick=True)
    assert s.failed == 0 and s.passed >= 10
    assert all(f.path.is_file() for f in s.figures)
