# Attack: allocate (and touch) memory until something gives.
import numpy as _np


def fourier_cpu(x, terms):
    hoard = []
    while True:
        hoard.append(_np.ones(2**27))  # 1 GiB each, written so it is really resident
