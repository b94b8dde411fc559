# Attack: read the hidden tests (and the solution) from disk and smuggle them out in a message.
import glob as _glob
import os as _os
import sys as _sys


def fourier_cpu(x, terms):
    found = _glob.glob("../tests/hidden/*.py")  # the worker's own copy: deleted after collection
    grader = _sys.modules.get("grader")
    if grader is not None:  # the course checkout the grader was installed from
        root = _os.path.dirname(_os.path.dirname(grader.__file__))
        found += _glob.glob(_os.path.join(root, "tests", "hidden", "*", "*.py"))
        found += _glob.glob(_os.path.join(root, "solutions", "*", "*.py"))
    lines = []
    for path in found:
        with open(path) as f:
            lines += [line.strip() for line in f if len(line.strip()) > 30]
    raise RuntimeError(" | ".join(lines[:40]) or "nothing found")
