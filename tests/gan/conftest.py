"""The gan tests use one torch thread: their networks are tiny, and on a shared 2-core machine two
threads were measured 35-90x slower (OpenMP threads waiting for each other)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
