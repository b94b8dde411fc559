# Wrong: the launch caps the grid at 32 blocks of 256 threads, and the kernel has no grid-stride
# loop: each thread counts one value, so only the first 8192 values are ever counted.
# breaks: histogram.gpu.correctness


@cuda.jit
def histogram_kernel(values, counts):
    bins = cuda.shared.array(MAX_BINS, int64)
    t = cuda.threadIdx.x
    nbins = counts.shape[0]
    for k in range(t, nbins, cuda.blockDim.x):
        bins[k] = 0
    cuda.syncthreads()
    i = cuda.grid(1)
    if i < values.shape[0]:
        cuda.atomic.add(bins, values[i], 1)
    cuda.syncthreads()
    for k in range(t, nbins, cuda.blockDim.x):
        cuda.atomic.add(counts, k, bins[k])


def histogram_gpu(values, nbins):
    counts = cuda.to_device(np.zeros(nbins, dtype=np.int64))
    threads = 256
    blocks = max(1, min(32, (values.shape[0] + threads - 1) // threads))
    histogram_kernel[blocks, threads](values, counts)
    return counts
