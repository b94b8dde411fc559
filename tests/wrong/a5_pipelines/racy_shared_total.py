# Wrong: the shared total is updated without the lock. `total += collatz_steps(chunk)` reads the
# total, releases the GIL while counting (nogil) and writes back a stale sum: updates are lost.
# breaks: counter.cpu.correctness


def counter_locked(chunks, workers=2):
    chunks = list(chunks)
    total = 0

    def work(k):
        nonlocal total
        for chunk in chunks[k::workers]:
            total += int(collatz_steps(chunk))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(work, range(workers)):
            pass
    return total
