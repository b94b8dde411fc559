# Wrong: every thread updates the same counts: increments are lost when two threads collide.
# breaks: histogram.cpu.correctness


@njit(parallel=True)
def histogram_cpu(values, nbins):
    counts = np.zeros(nbins, dtype=np.int64)
    for i in prange(values.shape[0]):
        counts[values[i]] += 1
    return counts
