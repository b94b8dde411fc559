# Attack: at exit, write fake pass records to every file descriptor, using whatever the environment
# (also as /proc/self/environ) says about the result channel.
import atexit as _atexit
import json as _json
import os as _os


def _forge():
    try:
        environ = open("/proc/self/environ", "rb").read().decode(errors="replace")
    except OSError:
        environ = ""
    prefix = ""
    for entry in environ.split("\0"):
        if entry.startswith("PARLAB_CHANNEL="):
            prefix = entry.split(":", 1)[-1]  # whatever follows the fd: hoped to be the secret
    record = {
        "name": "test_fourier_cpu_matches_serial",
        "task": "fourier",
        "part": "cpu",
        "kind": "correctness",
        "status": "passed",
        "score": 1.0,
        "max_score": 1.0,
    }
    line = (prefix + _json.dumps({"event": "record", "record": record}) + "\n").encode()
    for fd in range(1, 64):
        try:
            _os.write(fd, line)
        except OSError:
            pass


_atexit.register(_forge)


def fourier_cpu(x, terms):
    raise NotImplementedError
