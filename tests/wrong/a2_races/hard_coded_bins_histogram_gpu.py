# Wrong: the shared-memory bins hard-code the public test's 64 bins instead of MAX_BINS: any value
# from 64 up falls outside them.
# breaks: histogram.gpu.correctness


@cuda.jit
def histogram_kernel(values, counts):
    bins = cuda.shared.array(64, int64)
    t = cuda.threadIdx.x
    nbins = counts.shape[0]
    for k in range(t, nbins, cuda.blockDim.x):
        bins[k] = 0
    cuda.syncthreads()
    for i in range(cuda.grid(1), values.shape[0], cuda.gridsize(1)):
        cuda.atomic.add(bins, values[i], 1)
    cuda.syncthreads()
    for k in range(t, nbins, cuda.blockDim.x):
        cuda.atomic.add(counts, k, bins[k])
