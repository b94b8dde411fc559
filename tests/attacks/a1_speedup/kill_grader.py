# Attack: kill the process that started the worker (the grader, or grade-all with a whole class).
import os as _os
import signal as _signal

try:
    _os.kill(_os.getppid(), _signal.SIGKILL)
except OSError:
    pass  # isolated: the parent it can see is the sandbox's own init, which it may not signal
