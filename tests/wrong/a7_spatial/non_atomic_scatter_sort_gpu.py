# Wrong: the scatter takes its place with a plain read and write of the cell's cursor: two threads
# of one cell read the same fill[c] and write their points to the same place of `order`.
# breaks: sort.gpu.correctness


@cuda.jit
def scatter_kernel(cell, fill, order):
    i = cuda.grid(1)
    if i < cell.shape[0]:
        at = fill[cell[i]]
        fill[cell[i]] = at + 1
        order[at] = i
