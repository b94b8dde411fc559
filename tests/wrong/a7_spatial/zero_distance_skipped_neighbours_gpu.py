# Wrong: the point itself is recognised by its distance (0) instead of its index: duplicate points
# (another point at distance 0) are not counted as each other's neighbours.
# breaks: neighbours.gpu.correctness


@cuda.jit
def neighbours_kernel(points, r, origin, dims, order, starts, counts):
    i = cuda.grid(1)
    if i < points.shape[0]:
        d = points.shape[1]
        r2 = r * r
        nx = dims[0]
        ny = dims[1]
        nz = dims[2] if d == 3 else 1
        cx = int((points[i, 0] - origin[0]) / r)
        cy = int((points[i, 1] - origin[1]) / r)
        cz = int((points[i, 2] - origin[2]) / r) if d == 3 else 0
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
                            if 0.0 < dist2 <= r2:
                                found += 1
        counts[i] = found
