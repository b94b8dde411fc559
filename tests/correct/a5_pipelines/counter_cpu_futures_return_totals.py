# differs: counter_cpu shares nothing at all: each pool task returns its own total and the caller
# adds the results of the futures (no lock), with contiguous blocks of chunks instead of a stride.
from concurrent.futures import as_completed


def counter_cpu(chunks, workers=2):
    chunks = list(chunks)

    def work(lo, hi):
        mine = 0
        for chunk in chunks[lo:hi]:
            mine += int(collatz_steps(chunk))
        return mine

    n = len(chunks)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(work, k * n // workers, (k + 1) * n // workers) for k in range(workers)]
        return sum(f.result() for f in as_completed(futures))
