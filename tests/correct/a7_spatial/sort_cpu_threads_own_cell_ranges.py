# differs: sort_cpu gives every prange iteration a range of cells to own instead of a chunk of
# points: each scans all the points and counts and places only those in its own cells, so no two
# iterations ever write the same count or the same place (more reading, no private histograms).
from numba import get_num_threads as _threads_for_ranges


@njit(parallel=True)
def sort_cpu(points, r, origin, dims):
    n = points.shape[0]
    ncells = 1
    for k in range(dims.shape[0]):
        ncells *= dims[k]
    cell = np.empty(n, dtype=np.int64)
    for i in prange(n):
        cell[i] = cell_of(points, i, origin, r, dims)
    owners = max(1, min(_threads_for_ranges(), ncells))
    counts = np.zeros(ncells, dtype=np.int64)
    for w in prange(owners):
        lo = w * ncells // owners
        hi = (w + 1) * ncells // owners
        for i in range(n):
            if lo <= cell[i] < hi:
                counts[cell[i]] += 1
    starts = np.zeros(ncells + 1, dtype=np.int64)
    for c in range(ncells):
        starts[c + 1] = starts[c] + counts[c]
    order = np.empty(n, dtype=np.int64)
    for w in prange(owners):
        lo = w * ncells // owners
        hi = (w + 1) * ncells // owners
        fill = starts[lo:hi].copy()
        for i in range(n):
            c = cell[i]
            if lo <= c < hi:
                order[fill[c - lo]] = i
                fill[c - lo] += 1
    return order, starts
