# Wrong: a slot is claimed with a plain read and a plain write (if table_keys[slot] == EMPTY:
# table_keys[slot] = key): two threads can both see EMPTY and both write, and one key is lost or
# two slots end up holding one key. The strict simulator reports the unordered read and write.
# breaks: cellmap.gpu.correctness


@cuda.jit
def insert_kernel(keys, table_keys, table_counts):
    i = cuda.grid(1)
    if i < keys.shape[0]:
        key = keys[i]
        capacity = table_keys.shape[0]
        slot = ((key % capacity) * HASH_MULT) % capacity
        for _ in range(capacity):
            if table_keys[slot] == EMPTY:
                table_keys[slot] = key
            if table_keys[slot] == key:
                cuda.atomic.add(table_counts, slot, 1)
                return
            slot += 1
            if slot == capacity:
                slot = 0
