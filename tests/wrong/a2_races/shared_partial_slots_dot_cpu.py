# Wrong: one partial sum per thread kept by hand, but indexed by i % nthreads: prange gives each
# thread a contiguous run of i, so every thread adds into every slot and updates are lost when two
# threads add into the same slot at once.
# breaks: dot.cpu.correctness
from numba import get_num_threads


@njit(parallel=True)
def dot_cpu(a, b):
    nthreads = get_num_threads()
    partial = np.zeros(nthreads)
    for i in prange(a.shape[0]):
        partial[i % nthreads] += a[i] * b[i]
    return partial.sum()
