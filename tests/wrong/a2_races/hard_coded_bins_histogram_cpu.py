# Wrong: the private bins hard-code the public test's 64 bins: with more bins, counts of values
# from 64 up land in the next chunk's row, or past the end of the array.
# breaks: histogram.cpu.correctness


@njit(parallel=True)
def histogram_cpu(values, nbins):
    n = values.shape[0]
    chunks = max(1, min(get_num_threads() * 4, n))
    local = np.zeros((chunks, 64), dtype=np.int64)
    for c in prange(chunks):
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            local[c, values[i]] += 1
    counts = np.zeros(nbins, dtype=np.int64)
    for c in range(chunks):
        for k in range(nbins):
            counts[k] += local[c, k]
    return counts
