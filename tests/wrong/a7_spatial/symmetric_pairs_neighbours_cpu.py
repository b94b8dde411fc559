# Wrong: each pair is tested once (j > i) and counted for both points: counts[j] is updated by
# whichever thread owns i, while the thread that owns j writes it too. Half the distance tests,
# but updates are lost when two threads add to one count.
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
        for z in range(max(cz - 1, 0), min(cz + 2, nz)):
            for y in range(max(cy - 1, 0), min(cy + 2, ny)):
                for x in range(max(cx - 1, 0), min(cx + 2, nx)):
                    c = x + nx * (y + ny * z)
                    for k in range(starts[c], starts[c + 1]):
                        j = order[k]
                        if j > i:
                            dist2 = 0.0
                            for a in range(d):
                                t = points[i, a] - points[j, a]
                                dist2 += t * t
                            if dist2 <= r2:
                                counts[i] += 1
                                counts[j] += 1
    return counts
