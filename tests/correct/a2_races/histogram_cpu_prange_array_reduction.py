# differs: histogram_cpu lets numba merge the private bins: each prange chunk counts into a fresh
# array and `counts += mine` is a prange array reduction (numba gives every thread its own copy).


@njit(parallel=True)
def histogram_cpu(values, nbins):
    n = values.shape[0]
    chunk = 4096
    counts = np.zeros(nbins, dtype=np.int64)
    for c in prange((n + chunk - 1) // chunk):
        mine = np.zeros(nbins, dtype=np.int64)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            mine[values[i]] += 1
        counts += mine
    return counts
