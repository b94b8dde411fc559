# Attack: make its own speed line pending forever. Two child processes spin on the CPU whenever
# the submission's own code is not running (stopped with SIGSTOP while fourier_cpu runs, resumed
# after), so the staff baseline and the capacity probe see a busy machine and the grader defers.
import os as _os
import signal as _signal

_spinners = []
for _ in range(2):
    _pid = _os.fork()
    if _pid == 0:
        while True:
            pass
    _spinners.append(_pid)

_reference_fourier_cpu = fourier_cpu  # noqa: F821 - defined by the reference this file is appended to


def fourier_cpu(x, terms):
    for pid in _spinners:
        _os.kill(pid, _signal.SIGSTOP)
    try:
        return _reference_fourier_cpu(x, terms)
    finally:
        for pid in _spinners:
            _os.kill(pid, _signal.SIGCONT)
