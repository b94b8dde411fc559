# differs: compact_cpu flags every element in a prange loop, scans the flags with scan_cpu
# (exclusive) into each element's output position, and scatters in a third prange loop, instead of
# counting and writing per chunk.


@njit(parallel=True)
def compact_cpu(x, threshold):
    n = x.shape[0]
    keep = np.zeros(n, dtype=np.int64)
    for i in prange(n):
        keep[i] = 1 if x[i] > threshold else 0
    where = np.zeros(n, dtype=np.int64)
    scan_cpu(keep, where, False)
    total = where[n - 1] + keep[n - 1] if n > 0 else 0
    kept = np.empty(total, dtype=x.dtype)
    for i in prange(n):
        if keep[i] == 1:
            kept[where[i]] = x[i]
    return kept
