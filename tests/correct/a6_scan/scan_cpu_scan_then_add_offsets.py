# differs: scan_cpu scans each chunk into out first (its own prefix sums, from 0), then reads the
# chunk totals off out and adds each chunk's offset in a second prange pass, instead of adding up
# the chunks first and scanning them from their offsets; four chunks per thread.


@njit(parallel=True)
def scan_cpu(x, out, inclusive):
    n = x.shape[0]
    parts = max(1, min(4 * get_num_threads(), n))
    totals = np.zeros(parts, dtype=out.dtype)
    for p in prange(parts):
        lo, hi = p * n // parts, (p + 1) * n // parts
        run = totals[p]
        for i in range(lo, hi):
            if inclusive:
                run += x[i]
                out[i] = run
            else:
                out[i] = run
                run += x[i]
        totals[p] = run
    starts = np.zeros(parts, dtype=out.dtype)
    for p in range(1, parts):
        starts[p] = starts[p - 1] + totals[p - 1]
    for p in prange(1, parts):
        for i in range(p * n // parts, (p + 1) * n // parts):
            out[i] += starts[p]
