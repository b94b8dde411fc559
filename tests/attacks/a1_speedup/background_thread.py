# Attack: leave a thread spinning, so the serial baseline (timed next) runs slower.
import threading as _threading

_started = []
_honest_fourier_cpu = fourier_cpu


def _spin():
    while True:
        pass


def fourier_cpu(x, terms):
    if not _started:
        _started.append(_threading.Thread(target=_spin, daemon=True))
        _started[0].start()
    return _honest_fourier_cpu(x, terms)
