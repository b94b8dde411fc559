# Wrong: one pass instead of two. Each chunk starts from the last prefix sum of the chunk before
# it, out[start - 1], which another thread is writing at the same time: the result depends on
# which thread gets there first (serially, on one thread, it happens to be right).
# breaks: scan.cpu.correctness


@njit(parallel=True)
def scan_cpu(x, out, inclusive):
    n = x.shape[0]
    chunks = max(1, min(get_num_threads(), n))
    for c in prange(chunks):
        start, stop = c * n // chunks, (c + 1) * n // chunks
        acc = 0
        if start > 0:
            acc = out[start - 1] if inclusive else out[start - 1] + x[start - 1]
        if inclusive:
            for i in range(start, stop):
                acc += x[i]
                out[i] = acc
        else:
            for i in range(start, stop):
                out[i] = acc
                acc += x[i]
