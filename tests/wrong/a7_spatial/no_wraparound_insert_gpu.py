# Wrong: the probe walks slot + 1 without wrapping to 0 after the last slot: a key whose home slot
# is near the end of a crowded table runs off the end of the table.
# breaks: cellmap.gpu.correctness


@cuda.jit
def insert_kernel(keys, table_keys, table_counts):
    i = cuda.grid(1)
    if i < keys.shape[0]:
        key = keys[i]
        capacity = table_keys.shape[0]
        slot = ((key % capacity) * HASH_MULT) % capacity
        for _ in range(capacity):
            held = cuda.atomic.cas(table_keys, slot, EMPTY, key)
            if held == EMPTY or held == key:
                cuda.atomic.add(table_counts, slot, 1)
                return
            slot += 1
