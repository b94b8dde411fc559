# Wrong: the slot is looked at before its lock is taken, and the lock (taken in a helper) only
# guards the write: two threads can both see the same slot EMPTY and both claim it, the second
# overwriting the first one's key. (Written with the look and the claim inline, with nothing but
# NumPy indexing between them, CPython 3.11 never switches threads in that window and the race
# stays hidden from any test; it is as wrong, and shows under free-threaded Python.)
# breaks: cellmap.cpu.correctness


def cellmap_locked(keys, capacity, workers=2):
    table_keys = np.full(capacity, EMPTY, dtype=np.int64)
    table_counts = np.zeros(capacity, dtype=np.int64)
    locks = [threading.Lock() for _ in range(capacity)]

    def claim(slot, key):
        with locks[slot]:
            table_keys[slot] = key
            table_counts[slot] += 1

    def insert_all(share):
        for key in share:
            slot = ((key % capacity) * HASH_MULT) % capacity
            while True:
                held = table_keys[slot]
                if held == EMPTY or held == key:
                    claim(slot, key)
                    break
                slot = slot + 1 if slot + 1 < capacity else 0

    threads = [threading.Thread(target=insert_all, args=(keys[w::workers].tolist(),)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return table_keys, table_counts
