# Wrong: the partial sum stops one odd harmonic early (`range(terms - 1)`, an off-by-one when
# counting the terms 1, 3, 5, ...): parallel and fast, but every element is off by the last term.
# breaks: fourier.cpu.correctness


@njit(parallel=True)
def fourier_cpu(x, terms):
    out = np.empty_like(x)
    for i in prange(x.shape[0]):
        acc = 0.0
        for k in range(terms - 1):
            n = 2 * k + 1
            acc += math.sin(n * x[i]) / n
        out[i] = acc * (4.0 / math.pi)
    return out
