# Wrong: the search stops one cell short of the grid's last cell along x and y
# (min(c + 2, n - 1), but the last cell is n - 1 itself): points in or next to it miss neighbours.
# breaks: neighbours.cpu.correctness


@njit(parallel=True)
def neighbours_cpu(points, r, origin, dims, order, starts):
    n = points.shape[0]
    d = points.shape[1]
    r2 = r * r
    nx = dims[0]
    ny = dims[1]
    nz = dims[2] if d == 3 else 1
    counts = np.zeros(n, dtype=np.int64)
    for i in prange(n):
        cx = int((points[i, 0] - origin[0]) / r)
        cy = int((points[i, 1] - origin[1]) / r)
        cz = int((points[i, 2] - origin[2]) / r) if d == 3 else 0
        found = 0
        for z in range(max(cz - 1, 0), min(cz + 2, nz)):
            for y in range(max(cy - 1, 0), min(cy + 2, ny - 1)):
                for x in range(max(cx - 1, 0), min(cx + 2, nx - 1)):
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
