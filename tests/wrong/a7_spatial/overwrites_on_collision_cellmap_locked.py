# Wrong: on a collision the insert takes the slot over (it overwrites the other key and its count)
# instead of probing on: the earlier key is lost.
# breaks: cellmap.cpu.correctness


def cellmap_locked(keys, capacity, workers=2):
    table_keys = np.full(capacity, EMPTY, dtype=np.int64)
    table_counts = np.zeros(capacity, dtype=np.int64)
    locks = [threading.Lock() for _ in range(capacity)]

    def insert_all(share):
        for key in share:
            slot = ((key % capacity) * HASH_MULT) % capacity
            with locks[slot]:
                if table_keys[slot] != key:
                    table_keys[slot] = key
                    table_counts[slot] = 0
                table_counts[slot] += 1

    threads = [threading.Thread(target=insert_all, args=(keys[w::workers].tolist(),)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return table_keys, table_counts
