# Wrong: a serial loop dressed as prange: one iteration holds the whole scan, so one thread does
# all the work. The right values, no speedup.
# breaks: scan.cpu.performance


@njit(parallel=True)
def scan_cpu(x, out, inclusive):
    for _ in prange(1):
        acc = 0
        for i in range(x.shape[0]):
            if inclusive:
                acc += x[i]
                out[i] = acc
            else:
                out[i] = acc
                acc += x[i]
