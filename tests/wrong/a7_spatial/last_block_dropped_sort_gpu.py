# Wrong: the launch rounds the block count down (n // THREADS_PER_BLOCK): the last, partial block
# of points is never counted or scattered (and fewer than 128 points get no block at all).
# breaks: sort.gpu.correctness


def sort_gpu(points, r, origin, dims):
    n = points.shape[0]
    ncells = int(np.prod(dims))
    d_origin = cuda.to_device(np.ascontiguousarray(origin, dtype=np.float64))
    d_dims = cuda.to_device(np.ascontiguousarray(dims, dtype=np.int64))
    cell = cuda.device_array(n, dtype=np.int64)
    counts = cuda.to_device(np.zeros(ncells, dtype=np.int64))
    blocks = max(1, n // THREADS_PER_BLOCK)
    cell_kernel[blocks, THREADS_PER_BLOCK](points, r, d_origin, d_dims, cell, counts)
    starts = np.zeros(ncells + 1, dtype=np.int64)
    np.cumsum(counts.copy_to_host(), out=starts[1:])
    fill = cuda.to_device(starts[:-1].copy())
    order = cuda.to_device(np.zeros(n, dtype=np.int64))
    scatter_kernel[blocks, THREADS_PER_BLOCK](cell, fill, order)
    return order, cuda.to_device(starts)
