# differs: insert_kernel claims slots with the older cuda.atomic.compare_and_swap, which works on
# element 0 of the array it is given (a one-element slice of the table), and cellmap_gpu launches
# blocks of 64 threads.


@cuda.jit
def insert_kernel(keys, table_keys, table_counts):
    i = cuda.grid(1)
    if i < keys.shape[0]:
        key = keys[i]
        capacity = table_keys.shape[0]
        slot = ((key % capacity) * HASH_MULT) % capacity
        probes = 0
        while probes < capacity:
            held = cuda.atomic.compare_and_swap(table_keys[slot : slot + 1], EMPTY, key)
            if held == EMPTY or held == key:
                cuda.atomic.add(table_counts, slot, 1)
                break
            slot = (slot + 1) % capacity
            probes += 1


def cellmap_gpu(keys, capacity):
    table_keys = cuda.to_device(np.full(capacity, EMPTY, dtype=np.int64))
    table_counts = cuda.to_device(np.zeros(capacity, dtype=np.int64))
    if keys.shape[0] > 0:
        insert_kernel[(keys.shape[0] + 63) // 64, 64](keys, table_keys, table_counts)
    return table_keys, table_counts
