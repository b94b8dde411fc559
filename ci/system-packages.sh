#!/usr/bin/env bash
# System packages a grading machine needs besides Python: bubblewrap (bwrap), which isolates the
# graded code from the grader, other submissions and the network (grader/run/isolation.py), and
# util-linux's setpriv (present on every Debian/Ubuntu). Installs what is missing; says what to do
# where it cannot (grading then still works, with `isolation: reduced` in every report).
# With --tests also node (Debian's nodejs), which the project's tests use to run the GitHub
# Classroom reporter on the grader's output.
set -euo pipefail

packages=(bubblewrap util-linux)
wanted=(bwrap setpriv)
if [ "${1:-}" = "--tests" ]; then packages+=(nodejs); wanted+=(node); fi
missing=0
for cmd in "${wanted[@]}"; do command -v "$cmd" >/dev/null || missing=1; done
if [ "$missing" = 0 ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ]; then as_root=(); elif command -v sudo >/dev/null; then as_root=(sudo); else as_root=(false); fi
if command -v apt-get >/dev/null && "${as_root[@]}" true 2>/dev/null; then
    "${as_root[@]}" apt-get install -y -q "${packages[@]}" >/dev/null 2>&1 \
        || { "${as_root[@]}" apt-get update -q >/dev/null && "${as_root[@]}" apt-get install -y -q "${packages[@]}" >/dev/null; }
elif command -v dnf >/dev/null && "${as_root[@]}" true 2>/dev/null; then
    "${as_root[@]}" dnf install -y -q "${packages[@]}"
else
    echo "ci/system-packages.sh: cannot install bubblewrap here (no root, sudo or known package manager);" \
         "graded code will run with reduced isolation. Install the 'bubblewrap' package to fix it." >&2
fi
