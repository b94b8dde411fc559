# Wrong: the scatter runs in prange over the points with one shared cursor per cell: two threads
# with points in the same cell read the same fill[c], write to the same place and both move it on.
# breaks: sort.cpu.correctness


@njit(parallel=True)
def sort_cpu(points, r, origin, dims):
    n = points.shape[0]
    ncells = 1
    for k in range(dims.shape[0]):
        ncells *= dims[k]
    cell = np.empty(n, dtype=np.int64)
    for i in prange(n):
        cell[i] = cell_of(points, i, origin, r, dims)
    starts = np.zeros(ncells + 1, dtype=np.int64)
    for i in range(n):
        starts[cell[i] + 1] += 1
    for c in range(ncells):
        starts[c + 1] += starts[c]
    fill = starts[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in prange(n):
        order[fill[cell[i]]] = i
        fill[cell[i]] += 1
    return order, starts
