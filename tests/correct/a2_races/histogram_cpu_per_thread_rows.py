# differs: histogram_cpu privatizes per thread, not per chunk: one row of bins per numba thread
# (numba.get_thread_id()), a prange over the values themselves, rows summed at the end.
from numba import get_num_threads, get_thread_id


@njit(parallel=True)
def histogram_cpu(values, nbins):
    local = np.zeros((get_num_threads(), nbins), dtype=np.int64)
    for i in prange(values.shape[0]):
        local[get_thread_id(), values[i]] += 1  # only this thread ever touches its row
    return local.sum(axis=0)
