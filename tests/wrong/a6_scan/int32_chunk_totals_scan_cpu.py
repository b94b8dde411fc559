# Wrong: the chunk totals and offsets are kept in x's dtype. With int32 input a chunk's total
# wraps around past 2**31 - 1, and every later chunk starts from a wrong offset (the spec asks
# for int64 sums).
# breaks: scan.cpu.correctness


@njit(parallel=True)
def scan_cpu(x, out, inclusive):
    n = x.shape[0]
    chunks = max(1, min(get_num_threads(), n))
    sums = np.zeros(chunks, dtype=x.dtype)
    for c in prange(chunks):
        acc = sums[c]
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            acc += x[i]
        sums[c] = acc
    offsets = np.zeros(chunks, dtype=x.dtype)
    for c in range(1, chunks):
        offsets[c] = offsets[c - 1] + sums[c - 1]
    for c in prange(chunks):
        acc = offsets[c]
        if inclusive:
            for i in range(c * n // chunks, (c + 1) * n // chunks):
                acc += x[i]
                out[i] = acc
        else:
            for i in range(c * n // chunks, (c + 1) * n // chunks):
                out[i] = acc
                acc += x[i]
