"""What memory no thread wrote holds under the strict simulator: a value no correct kernel produces."""

from __future__ import annotations

from typing import Any

import numpy as np


def poison_value(dtype: np.dtype) -> Any:
    """What an unwritten slot holds: NaN for floats (complex: NaN+NaN·j), the minimum for integers, True for bools."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind in "iu":
        return np.iinfo(dtype).min if dtype.kind == "i" else np.iinfo(dtype).max
    if dtype.kind == "b":
        return True
    return 0
