# Wrong: compaction that loses order. Each chunk takes every chunks-th element (a strided split,
# fine for a sum or a histogram), so chunk 0 writes elements 0, p, 2p, ... before chunk 1 writes
# 1, p + 1, ...: the right elements, counted and placed without races, in the wrong order.
# breaks: compact.cpu.correctness


@njit(parallel=True)
def compact_cpu(x, threshold):
    n = x.shape[0]
    chunks = max(1, min(get_num_threads(), n))
    counts = np.zeros(chunks, dtype=np.int64)
    for c in prange(chunks):
        k = 0
        for i in range(c, n, chunks):
            if x[i] > threshold:
                k += 1
        counts[c] = k
    starts = np.zeros(chunks, dtype=np.int64)
    for c in range(1, chunks):
        starts[c] = starts[c - 1] + counts[c - 1]
    out = np.empty(starts[chunks - 1] + counts[chunks - 1], dtype=x.dtype)
    for c in prange(chunks):
        k = starts[c]
        for i in range(c, n, chunks):
            if x[i] > threshold:
                out[k] = x[i]
                k += 1
    return out
