# Attack: kill(-1, SIGKILL), every process the worker may signal. Only ever run where the worker is
# confirmed isolated (an unprivileged user in its own PID namespace): as root on the host it would
# end every process on the machine. Elsewhere it refuses, which fails the tests it sits in.
import os as _os
import signal as _signal

_reference_fourier_cpu = fourier_cpu  # noqa: F821 - defined by the reference this file is appended to


def _isolated() -> bool:
    try:
        with open("/proc/1/cmdline", "rb") as f:
            init = f.read().split(b"\0")[0]
    except OSError:
        return False
    return _os.getuid() != 0 and _os.path.basename(init) == b"bwrap"


def fourier_cpu(x, terms):
    if not _isolated():
        raise RuntimeError("not in an isolated sandbox: refusing to run kill(-1)")
    try:
        _os.kill(-1, _signal.SIGKILL)  # Linux spares the caller itself and the namespace's init
    except ProcessLookupError:
        raise RuntimeError("kill(-1) found no process it may signal") from None
    return _reference_fourier_cpu(x, terms)
