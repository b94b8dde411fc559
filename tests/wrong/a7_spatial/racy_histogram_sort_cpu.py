# Wrong: the histogram of cells is one shared array updated from every prange thread: increments
# are lost when two threads count points of the same cell at once (a2's racy histogram).
# breaks: sort.cpu.correctness


@njit(parallel=True)
def sort_cpu(points, r, origin, dims):
    n = points.shape[0]
    ncells = 1
    for k in range(dims.shape[0]):
        ncells *= dims[k]
    cell = np.empty(n, dtype=np.int64)
    starts = np.zeros(ncells + 1, dtype=np.int64)
    for i in prange(n):
        c = cell_of(points, i, origin, r, dims)
        cell[i] = c
        starts[c + 1] += 1
    for c in range(ncells):
        starts[c + 1] += starts[c]
    fill = starts[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[fill[cell[i]]] = i
        fill[cell[i]] += 1
    return order, starts
