# Attack: disable the comparison functions tests use, then return garbage.
import numpy as _np
import numpy.testing as _npt


def fourier_cpu(x, terms):
    _npt.assert_allclose = lambda *args, **kwargs: None
    _np.isclose = lambda a, b, **kwargs: _np.ones(_np.shape(a), dtype=bool)
    return _np.zeros_like(x)
