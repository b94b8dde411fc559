# differs: cellmap_locked guards the whole table with one lock (held for each key's whole probe)
# instead of one lock per slot: simpler, and under the interpreter lock hardly slower.


def cellmap_locked(keys, capacity, workers=2):
    table_keys = np.full(capacity, EMPTY, dtype=np.int64)
    table_counts = np.zeros(capacity, dtype=np.int64)
    guard = threading.Lock()
    errors = []

    def insert_all(share):
        try:
            for key in share:
                with guard:
                    slot = ((key % capacity) * HASH_MULT) % capacity
                    while table_keys[slot] != EMPTY and table_keys[slot] != key:
                        slot = (slot + 1) % capacity
                    table_keys[slot] = key
                    table_counts[slot] += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    size = (len(keys) + workers - 1) // workers
    threads = [threading.Thread(target=insert_all, args=(keys[w * size : (w + 1) * size].tolist(),)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return table_keys, table_counts
