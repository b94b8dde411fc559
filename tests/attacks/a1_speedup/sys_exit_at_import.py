# Attack: end the interpreter as soon as the grader imports the submission, hoping for a clean exit code.
import sys as _sys

_sys.exit(0)
