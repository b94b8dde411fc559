# differs: histogram_gpu launches one thread per value in blocks of 64 (no grid-stride loop), so
# each of the 64 threads zeroes and merges up to four of the 256 shared bins.

HIST_THREADS = 64


@cuda.jit
def histogram_kernel(values, counts):
    bins = cuda.shared.array(MAX_BINS, int64)
    t = cuda.threadIdx.x
    nbins = counts.shape[0]
    k = t
    while k < nbins:
        bins[k] = 0
        k += HIST_THREADS
    cuda.syncthreads()
    i = cuda.blockIdx.x * HIST_THREADS + t
    if i < values.shape[0]:
        cuda.atomic.add(bins, values[i], 1)
    cuda.syncthreads()
    k = t
    while k < nbins:
        if bins[k] != 0:
            cuda.atomic.add(counts, k, bins[k])
        k += HIST_THREADS


def histogram_gpu(values, nbins):
    counts = cuda.to_device(np.zeros(nbins, dtype=np.int64))
    blocks = (values.shape[0] + HIST_THREADS - 1) // HIST_THREADS
    histogram_kernel[max(1, blocks), HIST_THREADS](values, counts)
    return counts
