# differs: fourier_cpu hands out blocks of 1024 elements, one prange iteration per block, instead
# of one iteration per element, and writes the sum inline instead of through a helper.

CHUNK = 1024


@njit(parallel=True)
def fourier_cpu(x, terms):
    out = np.empty_like(x)
    n = x.shape[0]
    for c in prange((n + CHUNK - 1) // CHUNK):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            acc = 0.0
            for k in range(terms):
                m = 2 * k + 1
                acc += math.sin(m * x[i]) / m
            out[i] = acc * (4.0 / math.pi)
    return out
