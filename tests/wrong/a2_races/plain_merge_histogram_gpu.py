# Wrong: each block merges its shared bins into the global counts with a plain +=. Blocks run at
# the same time on a GPU and lose each other's sums; numba's simulator runs them one after another.
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
        cuda.atomic.add(bins, values[i], 1)
    cuda.syncthreads()
    for k in range(t, nbins, cuda.blockDim.x):
        counts[k] += bins[k]
