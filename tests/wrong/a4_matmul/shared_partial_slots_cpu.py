# Wrong: "one scratch row per thread", but the slot is picked as i % (number of threads), which is
# not the thread running row i: two threads on rows of the same parity share a slot and mix them.
# breaks: matmul.cpu.correctness

from numba import get_num_threads


@njit(parallel=True)
def matmul_cpu(A, B):
    n, k = A.shape
    m = B.shape[1]
    C = np.empty((n, m), dtype=np.float64)
    threads = get_num_threads()
    slots = np.zeros((threads, m))
    for i in prange(n):
        s = i % threads  # meant to be "my thread's slot"
        for j in range(m):
            slots[s, j] = 0.0
        for p in range(k):
            a = A[i, p]
            for j in range(m):
                slots[s, j] += a * B[p, j]
        for j in range(m):
            C[i, j] = slots[s, j]
    return C
