# Wrong: shared-memory bins updated without an atomic: the block's threads lose each other's updates.
# breaks: histogram.gpu.correctness


@cuda.jit
def histogram_kernel(values, counts):
    bins = cuda.shared.array(MAX_BINS, int64)
    t = cuda.threadIdx.x
    nbins = counts.shape[0]
    for k in range(t, nbins, cuda.blockDim.x):
        bins[k] = 0
    cuda.syncthreads()
    for i in range(cuda.grid(1), values.shape[0], cuda.gridsize(1)):
        bins[values[i]] += 1
    cuda.syncthreads()
    for k in range(t, nbins, cuda.blockDim.x):
        cuda.atomic.add(counts, k, bins[k])
