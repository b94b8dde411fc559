# Wrong: the inclusive/exclusive slip: pass 2 adds the element before writing in both modes, so
# the exclusive scan comes out inclusive (every element one term ahead, out[0] = x[0], not 0).
# breaks: scan.cpu.correctness


@njit(parallel=True)
def scan_cpu(x, out, inclusive):
    n = x.shape[0]
    chunks = max(1, min(get_num_threads(), n))
    sums = np.zeros(chunks, dtype=out.dtype)
    for c in prange(chunks):
        acc = sums[c]
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            acc += x[i]
        sums[c] = acc
    offsets = np.zeros(chunks, dtype=out.dtype)
    for c in range(1, chunks):
        offsets[c] = offsets[c - 1] + sums[c - 1]
    for c in prange(chunks):
        acc = offsets[c]
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            acc += x[i]
            out[i] = acc
