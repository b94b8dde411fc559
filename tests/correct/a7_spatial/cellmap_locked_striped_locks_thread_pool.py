# differs: cellmap_locked uses 64 locks, slot % 64 picking one (lock striping), and a
# ThreadPoolExecutor whose workers take keys in contiguous blocks.
from concurrent.futures import ThreadPoolExecutor as _Pool


def cellmap_locked(keys, capacity, workers=2):
    table_keys = np.full(capacity, EMPTY, dtype=np.int64)
    table_counts = np.zeros(capacity, dtype=np.int64)
    stripes = [threading.Lock() for _ in range(64)]

    def insert_block(block):
        for key in block:
            slot = ((key % capacity) * HASH_MULT) % capacity
            done = False
            while not done:
                with stripes[slot % 64]:
                    if table_keys[slot] == EMPTY or table_keys[slot] == key:
                        table_keys[slot] = key
                        table_counts[slot] += 1
                        done = True
                if not done:
                    slot = 0 if slot == capacity - 1 else slot + 1

    blocks = [b.tolist() for b in np.array_split(keys, max(1, workers * 4))]
    with _Pool(max_workers=workers) as pool:
        list(pool.map(insert_block, blocks))
    return table_keys, table_counts
