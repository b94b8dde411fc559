# differs: counter_locked starts threading.Thread workers that take chunks from a queue.Queue as
# they become free (a dynamic schedule) instead of a fixed stride of chunks per pool task.


def counter_locked(chunks, workers=2):
    todo = queue.Queue()
    for chunk in chunks:
        todo.put(chunk)
    lock = threading.Lock()
    total = 0
    errors = []

    def work():
        nonlocal total
        try:
            while True:
                try:
                    chunk = todo.get_nowait()
                except queue.Empty:
                    return
                steps = int(collatz_steps(chunk))
                with lock:
                    total += steps
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return total
