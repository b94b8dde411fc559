# Wrong: no probing: a key whose home slot already holds another key is simply dropped.
# breaks: cellmap.gpu.correctness


@cuda.jit
def insert_kernel(keys, table_keys, table_counts):
    i = cuda.grid(1)
    if i < keys.shape[0]:
        key = keys[i]
        capacity = table_keys.shape[0]
        slot = ((key % capacity) * HASH_MULT) % capacity
        held = cuda.atomic.cas(table_keys, slot, EMPTY, key)
        if held == EMPTY or held == key:
            cuda.atomic.add(table_counts, slot, 1)
