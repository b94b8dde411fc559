# differs: dot_cpu does the privatization by hand instead of numba's scalar reduction: a prange over
# fixed chunks, each writing its partial sum to its own slot, the slots added at the end.


@njit(parallel=True)
def dot_cpu(a, b):
    n = a.shape[0]
    chunk = 65536
    nchunks = (n + chunk - 1) // chunk
    partial = np.zeros(max(1, nchunks), dtype=np.float64)
    for c in prange(nchunks):
        acc = 0.0
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            acc += a[i] * b[i]
        partial[c] = acc
    total = 0.0
    for c in range(nchunks):
        total += partial[c]
    return total
