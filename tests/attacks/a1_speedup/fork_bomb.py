# Attack: start many processes that outlive the test, half of them escaping the process group.
import os as _os
import time as _time

_forked = []
_honest_fourier_cpu = fourier_cpu


def fourier_cpu(x, terms):
    if not _forked:
        for i in range(80):
            pid = _os.fork()
            if pid == 0:
                if i % 2:
                    _os.setsid()
                _time.sleep(300)
                _os._exit(0)
            _forked.append(pid)
    return _honest_fourier_cpu(x, terms)
