# differs: neighbours_gpu first gathers the points into cell order with a kernel of its own
# (sorted[s] = points[order[s]]), then one thread per sorted position searches the sorted copy and
# writes the count of the point it stands for; neighbours_kernel is not launched.


@cuda.jit
def _gather_sorted(points, order, sorted_points):
    s = cuda.grid(1)
    if s < order.shape[0]:
        for a in range(points.shape[1]):
            sorted_points[s, a] = points[order[s], a]


@cuda.jit
def _search_sorted(sorted_points, order, r, origin, dims, starts, counts):
    s = cuda.grid(1)
    if s < sorted_points.shape[0]:
        d = sorted_points.shape[1]
        nx = dims[0]
        ny = dims[1]
        nz = dims[2] if d == 3 else 1
        cx = int((sorted_points[s, 0] - origin[0]) / r)
        cy = int((sorted_points[s, 1] - origin[1]) / r)
        cz = int((sorted_points[s, 2] - origin[2]) / r) if d == 3 else 0
        found = 0
        for z in range(max(cz - 1, 0), min(cz + 2, nz)):
            for y in range(max(cy - 1, 0), min(cy + 2, ny)):
                for x in range(max(cx - 1, 0), min(cx + 2, nx)):
                    c = x + nx * (y + ny * z)
                    for k in range(starts[c], starts[c + 1]):
                        if k != s:
                            dist2 = 0.0
                            for a in range(d):
                                t = sorted_points[s, a] - sorted_points[k, a]
                                dist2 += t * t
                            if dist2 <= r * r:
                                found += 1
        counts[order[s]] = found


def neighbours_gpu(points, r, origin, dims, order, starts):
    n = points.shape[0]
    sorted_points = cuda.device_array((n, points.shape[1]), dtype=np.float64)
    counts = cuda.device_array(n, dtype=np.int64)
    blocks = (n + 63) // 64
    _gather_sorted[blocks, 64](points, order, sorted_points)
    d_origin = cuda.to_device(np.ascontiguousarray(origin, dtype=np.float64))
    d_dims = cuda.to_device(np.ascontiguousarray(dims, dtype=np.int64))
    _search_sorted[blocks, 64](sorted_points, order, r, d_origin, d_dims, starts, counts)
    return counts
