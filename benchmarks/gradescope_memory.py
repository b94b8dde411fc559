"""Peak memory of one Gradescope grading: PSS of the whole process tree, sampled while it runs.

    python benchmarks/gradescope_memory.py [--assignment a1] [--submission solutions/a1_speedup] [--runs 3]

Builds the autograder zip (`grader export gradescope`), unpacks it into a Gradescope-shaped folder
(source/, submission/, results/), and runs its `run_autograder` with this machine's grader, as
Gradescope would, sampling every 20 ms the proportional set size (PSS: shared pages split between
the processes sharing them, so the sum is what the tree really holds) of the grader and every
process below it, workers in their sandboxes included. Prints the peak per run and the score the
results file gives. Gradescope's default autograder container has 768 MB of memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.core.course import Course  # noqa: E402
from grader.staff.gradescope_package import build_gradescope_zip  # noqa: E402

LIMIT_MB = 768


def children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_memory_mb(root: int) -> tuple[float, float]:
    """(PSS of the whole tree, the largest peak RSS (VmHWM) of any one process in it), in MB."""
    tree, todo, total, largest = children(), [root], 0, 0
    while todo:
        pid = todo.pop()
        todo += tree.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    largest = max(largest, int(line.split()[1]))
        except OSError:
            continue
    return total / 1024, largest / 1024


def one_run(a, submission: Path) -> tuple[float, float, float, float, float]:
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        root = Path(tmp)
        build_gradescope_zip(a, root / "autograder.zip")
        with zipfile.ZipFile(root / "autograder.zip") as z:
            z.extractall(root / "source")
        shutil.copytree(submission, root / "submission")
        env = {**os.environ, "PARLAB_AUTOGRADER_ROOT": str(root), "PARLAB_GRADER": str(Path(sys.executable).parent / "grader")}
        started = time.monotonic()
        proc = subprocess.Popen(
            ["bash", str(root / "source" / "run_autograder")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        peak = largest = 0.0
        while proc.poll() is None:
            pss, hwm = tree_memory_mb(proc.pid)
            peak, largest = max(peak, pss), max(largest, hwm)
            time.sleep(0.02)
        seconds = time.monotonic() - started
        results = json.loads((root / "results" / "results.json").read_text())
        top = sum(t["max_score"] for t in results["tests"])
        return peak, largest, seconds, results["score"], top


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assignment", default="a1")
    parser.add_argument("--submission", type=Path, help="folder to grade (default: the reference solution)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    a = Course(ROOT).resolve(args.assignment)
    submission = args.submission or a.solution_dir
    print(f"{a.id}, submission {submission}, {args.runs} runs, Gradescope's default limit {LIMIT_MB} MB")
    print("| run | peak PSS of the process tree (MB) | largest single process, peak RSS (MB) | seconds | score |")
    print("|---|---|---|---|---|")
    for i in range(args.runs):
        peak, largest, seconds, score, top = one_run(a, submission)
        print(f"| {i + 1} | {peak:.0f} | {largest:.0f} | {seconds:.1f} | {score:g} / {top:g} judged |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
