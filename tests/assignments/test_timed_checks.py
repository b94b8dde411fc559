"""The check every timed result passes accepts any correct answer, not only the baseline's rounding.

A speed line that fails a correct submission because it added the same terms in another order
is a grade that means nothing: a2's dot product over 8 million terms in [-1, 1] cancels down to a
result ~1000x smaller than its terms' absolute sum, so an elementwise float64 tolerance on the
result (2e-13 relative) rejected a correct chunked sum in 1 of 4 quiet gradings.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from ..conftest import ROOT


def _public_tests(assignment: str):
    path = ROOT / "assignments" / assignment / "test_public.py"
    spec = importlib.util.spec_from_file_location(f"_public_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("chunks", [2, 7, 64, 1000])
def test_dot_timed_check_accepts_a_sum_in_another_order(chunks):
    public = _public_tests("a2_races")
    n = 3_000_000
    ab = public._vectors(n, seed=1)
    serial = float(np.dot(ab[0], ab[1]))
    partials = [float(np.dot(a, b)) for a, b in zip(np.array_split(ab[0], chunks), np.array_split(ab[1], chunks), strict=True)]
    public._dot_check(n)(public._as_array(sum(reversed(partials))), public._as_array(serial))


def test_dot_timed_check_rejects_a_missing_term():
    public = _public_tests("a2_races")
    n = 3_000_000
    ab = public._vectors(n, seed=1)
    serial = float(np.dot(ab[0], ab[1]))
    without_last = float(np.dot(ab[0, :-1], ab[1, :-1]))
    assert abs(serial - without_last) > 1e-9 * n  # the term it drops is larger than the tolerance
    with pytest.raises(AssertionError, match="timed result"):
        public._dot_check(n)(public._as_array(without_last), public._as_array(serial))
