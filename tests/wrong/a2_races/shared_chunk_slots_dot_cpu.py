# Wrong: the input cut into more chunks than threads, but the partial sums kept in one slot per
# thread, indexed by chunk % nthreads: prange hands neighbouring chunks to the same thread, so two
# threads add into the same slot at the same time and updates are lost.
# breaks: dot.cpu.correctness
from numba import get_num_threads


@njit(parallel=True)
def dot_cpu(a, b):
    n = a.shape[0]
    nthreads = get_num_threads()
    chunks = 4 * nthreads
    partial = np.zeros(nthreads)
    for c in prange(chunks):
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            partial[c % nthreads] += a[i] * b[i]
    return partial.sum()
