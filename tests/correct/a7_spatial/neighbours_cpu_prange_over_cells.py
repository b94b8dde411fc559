# differs: neighbours_cpu runs prange over the cells, not the points: each iteration counts the
# neighbours of every point in its cell (a cell's points are written by its iteration alone).


@njit(parallel=True)
def neighbours_cpu(points, r, origin, dims, order, starts):
    n = points.shape[0]
    d = points.shape[1]
    r2 = r * r
    nx = dims[0]
    ny = dims[1]
    nz = dims[2] if d == 3 else 1
    counts = np.zeros(n, dtype=np.int64)
    for c0 in prange(starts.shape[0] - 1):
        cx = c0 % nx
        cy = (c0 // nx) % ny
        cz = c0 // (nx * ny)
        for s in range(starts[c0], starts[c0 + 1]):
            i = order[s]
            found = 0
            for z in range(max(cz - 1, 0), min(cz + 2, nz)):
                for y in range(max(cy - 1, 0), min(cy + 2, ny)):
                    for x in range(max(cx - 1, 0), min(cx + 2, nx)):
                        c = x + nx * (y + ny * z)
                        for k in range(starts[c], starts[c + 1]):
                            j = order[k]
                            if j != i:
                                dist2 = 0.0
                                for a in range(d):
                                    t = points[i, a] - points[j, a]
                                    dist2 += t * t
                                if dist2 <= r2:
                                    found += 1
            counts[i] = found
    return counts
