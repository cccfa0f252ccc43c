"""The reproduce section: its theory checks pass; the quick section (with the toy run) is marked slow."""

import pytest

from kexue.gan.reproduce import _theory, numeric_argmax, reproduce
from kexue.report import Section


def test_theory_checks_pass(tmp_path):
    s = Section("gan", "test")
    _theory(s, tmp_path)
    assert s.failed == 0 and s.passed >= 15, [c for c in s.checks if not c.passed]
    assert (tmp_path / "gan_theory.png").stat().st_size > 10_000
    names = [row[0] for row in s.tables[1].rows]
    assert names == ["A", "B", "C", "D", "E", "F", "wgan-gp", "hinge"]


def test_numeric_argmax_knows_nothing_of_omega():
    from kexue.gan.losses import make_loss

    loss = make_loss("r - 1/r", "(t + sqrt(t**2 + 4))/2", "1/(1 + t**2)")  # ω(r) = r - 1/r
    for r in (0.2, 1.0, 5.0):
        assert numeric_argmax(loss, r) == pytest.approx(r - 1 / r, abs=1e-6)


@pytest.mark.slow
def test_quick_reproduce(tmp_path):
    s = reproduce(tmp_path, quick=True)
    assert s.failed == 0, [c for c in s.checks if not c.passed]
