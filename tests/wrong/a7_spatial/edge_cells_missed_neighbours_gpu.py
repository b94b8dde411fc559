# Wrong: neighbour cells are kept only when 0 < x and 0 < y (an off-by-one in the bounds test): the
# first cell along x and y is never searched, so points in or next to it miss neighbours.
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
        for z in range(cz - 1, cz + 2):
            for y in range(cy - 1, cy + 2):
                for x in range(cx - 1, cx + 2):
                    if x <= 0 or y <= 0 or x >= nx or y >= ny or z < 0 or z >= nz:
                        continue
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
