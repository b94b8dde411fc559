# Wrong: "one subtotal per worker", but a chunk's steps go to slot (chunk number % workers), not to
# the worker's own slot. The pool hands chunks out as workers free up, so two workers can update
# the same slot at once; collatz_steps releases the GIL between the read and the write.
# breaks: counter.cpu.correctness


def counter_cpu(chunks, workers=2):
    chunks = list(chunks)
    subtotals = [0] * workers

    def one(i):
        subtotals[i % workers] += int(collatz_steps(chunks[i]))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(one, range(len(chunks))):
            pass
    return sum(subtotals)
