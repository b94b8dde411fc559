"""Keep the worker away from everything but its scratch folder: processes, files and network.

The sandbox (`sandbox.py`) limits what a submission may *consume*; this module limits what it can
*touch*, with bubblewrap (`bwrap`, Debian package `bubblewrap`), the tool Flatpak uses for the
same job. The worker runs:

- in its own PID namespace: it sees only its own processes, so it cannot signal the grader, another
  worker or anything else (`kill(-1)` ends the worker itself); bwrap is its PID 1;
- in its own mount view, built from nothing: the system (`/usr`, `/etc`, ...), the Python install
  and its packages, the grader package and the assignment's public folder, all read-only; its
  scratch folder, the only place it can write; a private `/tmp`, `/dev/shm` and `/proc`. The course
  checkout, class folders, outputs, caches and other submissions are not in that view at all;
- in its own network namespace (loopback only, and not the host's): no socket reaches anything;
- as an unprivileged user (`nobody`, via util-linux `setpriv`, with no capabilities and
  no-new-privs) when the grader runs as root, so the kernel's process limit binds too.

Where bubblewrap is missing or the platform forbids namespaces (some CI runners and containers),
grading still works with the sandbox alone: the level is then `reduced: <why>`, every report
records it, and trusted grading warns. ``PARLAB_ISOLATION=off`` turns isolation off deliberately
(reduced too); ``PARLAB_ISOLATION=required`` makes grading refuse to run without it.
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..core.course import GRADER_PACKAGE

MODE_ENV = "PARLAB_ISOLATION"  # auto (default) | required | off
MODES = ("auto", "required", "off")
UNPRIVILEGED = "nobody"
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)"
SYSTEM_DIRS = ("/usr", "/etc", "/sys")  # not /opt, /srv, /home: courses and class folders live there
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
PROBE_TIMEOUT_S = 20.0


class IsolationUnavailable(Exception):
    """``PARLAB_ISOLATION=required`` and the worker cannot be isolated here."""


@dataclass(frozen=True)
class Isolation:
    """How the worker is confined: `full` (bubblewrap) or `reduced` (the sandbox alone), and why."""

    full: bool
    why: str = ""  # what is missing, for `reduced`
    bwrap: str = ""
    setpriv: str = ""
    uid: int | None = None  # run the worker as this user (the grader runs as root)
    gid: int | None = None

    @property
    def level(self) -> str:
        return "full" if self.full else f"reduced: {self.why}"

    def prepare(self, workdir: Path) -> None:
        """Hand the scratch folder to the worker's user (the only place it may write)."""
        if self.full and self.uid is not None:
            for root, dirs, files in os.walk(workdir):
                for name in [*dirs, *files]:
                    os.lchown(os.path.join(root, name), self.uid, self.gid)
            os.chown(workdir, self.uid, self.gid)

    def wrap(
        self,
        cmd: list[str],
        *,
        workdir: Path,
        cwd: Path,
        readable: list[Path],
        gpu: bool,
        hide: Sequence[Path] = (),
        writable: Sequence[Path] = (),
    ) -> list[str]:
        """``cmd`` run inside the sandbox's own namespaces, seeing only ``readable`` (read-only),
        ``workdir`` and ``writable`` (read-write).

        ``hide`` (the course's hidden tests and solutions) is covered by an empty folder wherever a
        readable path would show it."""
        if not self.full:
            return cmd
        args = self._bwrap(workdir=workdir, cwd=cwd, readable=readable, gpu=gpu, hide=list(hide), writable=list(writable))
        return [*args, *self._as_user(), *cmd]

    def exit_code(self, code: int | None) -> int | None:
        """bwrap reports a worker killed by signal N as exit code 128 + N; the sandbox expects -N."""
        if self.full and code is not None and 128 < code <= 128 + 64:
            return -(code - 128)
        return code

    def _as_user(self) -> list[str]:
        if self.uid is None:
            return []
        return [
            self.setpriv,
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]

    def _bwrap(
        self, *, workdir: Path, cwd: Path, readable: list[Path], gpu: bool, hide: list[Path], writable: list[Path]
    ) -> list[str]:
        args = [self.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        if self.uid is None:
            args.append("--unshare-user")  # an ordinary user needs a user namespace to make the others
        args += ["--die-with-parent", "--hostname", "sandbox"]
        made: set[str] = {"/"}

        def parents(path: Path) -> list[str]:
            """bwrap makes missing mount points 0700 (unreadable for the worker's user): make them 0755 first."""
            out = []
            for p in reversed(path.parents):
                if str(p) not in made:
                    made.add(str(p))
                    out += ["--perms", "0755", "--dir", str(p)]
            return out

        # Fresh /dev, /proc and /tmp first: a folder bound later under /tmp (a course checked out
        # there) must not be covered by the empty one.
        args += ["--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm", "--proc", "/proc"]
        args += ["--perms", "1777", "--tmpfs", "/tmp"]
        made.update(("/dev", "/proc", "/tmp"))
        for d in SYSTEM_DIRS:
            if os.path.isdir(d):
                args += ["--ro-bind", d, d]
        for link in SYSTEM_LINKS:
            if os.path.islink(link):
                args += ["--symlink", os.readlink(link), link]
            elif os.path.isdir(link):
                args += ["--ro-bind", link, link]
        if gpu:  # the CUDA toolkit, where it is not under /usr
            readable = [*readable, *(Path(os.environ[v]) for v in ("CUDA_HOME", "CUDA_PATH") if os.environ.get(v))]
        bound = _outermost(p for p in readable if p.exists())
        for path in bound:
            args += [*parents(path), "--ro-bind", str(path), str(path)]
        trees = [*bound, *(Path(d) for d in SYSTEM_DIRS)]
        for path in _outermost(p for p in hide if p.exists()):
            if any(t == path or t in path.parents for t in trees):
                args += ["--tmpfs", str(path)]
        if gpu:
            for dev in sorted(Path("/dev").glob("nvidia*")):
                args += ["--dev-bind", str(dev), str(dev)]
        for path in _outermost(p for p in writable if p.is_dir()):
            args += [*parents(path), "--bind", str(path), str(path)]
        args += [*parents(workdir), "--bind", str(workdir), str(workdir), "--chdir", str(cwd)]
        return [*args, "--"]


def _outermost(paths) -> list[Path]:
    """The given paths (resolved) without those inside another one: each folder is bound once."""
    resolved = sorted({Path(os.path.realpath(p)) for p in paths}, key=lambda p: len(p.parts))
    out: list[Path] = []
    for p in resolved:
        if not any(p == q or q in p.parents for q in out):
            out.append(p)
    return out


def python_paths() -> list[Path]:
    """What the worker's interpreter needs: the Python install, its packages and the grader package."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(os.path.realpath(sys.executable)).parent.parent}
    paths.update(Path(p) for p in site.getsitepackages())
    paths.add(GRADER_PACKAGE)  # the grader package (an editable install lives in the course checkout)
    return sorted(paths)


def mode() -> str:
    value = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    if value not in MODES:
        raise IsolationUnavailable(f"{MODE_ENV}={value!r} is not one of {', '.join(MODES)}")
    return value


@functools.cache
def detect() -> Isolation:
    """The isolation this machine allows, found once per process by starting one sandbox for real."""
    if mode() == "off":
        return Isolation(full=False, why=f"turned off with {MODE_ENV}=off")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation(full=False, why=f"bubblewrap is not installed ({INSTALL_HINT})")
    uid = gid = None
    setpriv = ""
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv") or ""
        if not setpriv:
            why = "the grader runs as root and util-linux setpriv, which drops to an unprivileged user, is missing"
            return Isolation(full=False, why=why)
        try:
            user = pwd.getpwnam(UNPRIVILEGED)
            uid, gid = user.pw_uid, user.pw_gid
        except KeyError:
            uid = gid = 65534
    candidate = Isolation(full=True, bwrap=bwrap, setpriv=setpriv, uid=uid, gid=gid)
    problem = _try(candidate)
    if problem:
        return Isolation(full=False, why=f"bubblewrap could not start a sandbox here ({problem})")
    return candidate


def _try(candidate: Isolation) -> str:
    """Run the interpreter once inside a sandbox, checking it cannot see the host's processes. '' when it works."""
    probe = "import os, sys; sys.exit(0 if os.getpid() < 10 and os.getuid() != 0 else 3)"
    with tempfile.TemporaryDirectory(prefix="parlab-probe-") as tmp:
        workdir = Path(tmp)
        candidate.prepare(workdir)
        python = [sys.executable, "-I", "-c", probe]
        cmd = candidate.wrap(python, workdir=workdir, cwd=workdir, readable=python_paths(), gpu=False)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
    if done.returncode == 3:
        return "the sandboxed process still saw the host's processes or ran as root"
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines()
        return lines[-1] if lines else f"exit code {done.returncode}"
    return ""


def require() -> Isolation:
    """`detect()`, raising when isolation is required and not available."""
    iso = detect()
    if not iso.full and mode() == "required":
        raise IsolationUnavailable(f"isolation is required ({MODE_ENV}=required) but {iso.why}")
    return iso


def warning(why: str) -> str:
    """What a trusted grading command tells the TA when the worker is not fully isolated (``why``)."""
    return (
        f"WARNING: submissions ran with reduced isolation ({why}). A submission could signal the grader, "
        f"read or write files of the grading user and open network connections. Fix: {INSTALL_HINT}, run on a "
        f"machine that allows user namespaces, or grade in a container without network; set {MODE_ENV}=required "
        "to refuse grading without isolation."
    )
