# Wrong: the right counts in the wrong dtype (float64 instead of int64).
# breaks: histogram.cpu.correctness
_right_histogram_cpu = histogram_cpu


def histogram_cpu(values, nbins):
    return _right_histogram_cpu(values, nbins).astype(np.float64)
