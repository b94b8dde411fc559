"""How long a TA waits for a class: make N synthetic student repositories, collect them, grade them all, twice.

    python benchmarks/batch_grading.py --students 100 [--jobs 2] [--workdir DIR] [--cluster local|ADDRESS]

The mix (see synthetic_class.py): reference, stub, partly wrong, serial "parallel" code, syntax
error, late; every 25th repository is missing. Prints wall time per phase, cost per submission,
and what the second run (everything cached) costs. Target: 100 submissions ≤ 12 min on 2 cores,
second run ≤ 1 min. Run it on an otherwise idle machine: the speed phase times real code.
With PARLAB_NUMBA_CACHE=off, grade-all compiles the course's code in every speed worker instead of
once (its course cache), for a same-hour comparison. With --cluster the gradings run on Dask
workers (`local`: worker processes on this machine, for the overhead against the local pool on the
same cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_class import make_class  # noqa: E402

from grader.classroom.collect import collect, read_roster  # noqa: E402
from grader.classroom.grade_all import grade_all  # noqa: E402
from grader.classroom.policies import load_late_policy  # noqa: E402
from grader.classroom.records import load_results  # noqa: E402
from grader.core.course import Course  # noqa: E402
from grader.formats.gradebook import write_gradebook  # noqa: E402
from grader.formats.html_report import class_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2, help="correctness gradings at once")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the class here (default: a temporary folder)")
    parser.add_argument("--cluster", default=None, help="grade on Dask: `local` or a scheduler address")
    args = parser.parse_args()
    course = Course(ROOT)
    a1 = course.resolve("a1")
    cluster = None
    if args.cluster:
        from grader.classroom.cluster import connect

        t0 = time.perf_counter()
        cluster = connect(args.cluster, ROOT)
        print(f"cluster {args.cluster}: {len(cluster.workers())} worker(s), started in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory(prefix="parlab-class-") as tmp:
        work = args.workdir or Path(tmp)
        t0 = time.perf_counter()
        roster, deadline, kinds = make_class(a1, work / "class", args.students)
        t_make = time.perf_counter() - t0

        t0 = time.perf_counter()
        subs = collect(a1, read_roster(roster), deadline, work / "subs", load_late_policy(ROOT), roster=roster)
        t_collect = time.perf_counter() - t0

        def progress(phase: str, total: int) -> None:
            print(f"  {phase}: {total} submissions", flush=True)

        t0 = time.perf_counter()
        first = grade_all(a1, work / "subs", jobs=args.jobs, on_phase=progress, cluster=cluster)
        t_grade = time.perf_counter() - t0

        t0 = time.perf_counter()
        results = load_results(work / "subs")
        write_gradebook(a1, results, work / "subs" / "report")
        (work / "subs" / "report" / "report.html").write_text(class_report(a1, results, failures=first.failures))
        t_report = time.perf_counter() - t0

        t0 = time.perf_counter()
        second = grade_all(a1, work / "subs", jobs=args.jobs, cluster=cluster)
        t_second = time.perf_counter() - t0
    if cluster is not None:
        cluster.close()

    n = len(subs)
    print(f"\n{n} students: " + ", ".join(f"{c} {k}" for k, c in sorted(Counter(kinds.values()).items())))
    print(f"collect statuses: {dict(Counter(s.status for s in subs))}; late: {sum(1 for s in subs if s.late_seconds > 0)}")
    print("\n| step | wall time | per submission |\n|---|---|---|")
    print(f"| make {n} repositories | {t_make:.0f} s | {t_make / n:.2f} s |")
    print(f"| collect | {t_collect:.0f} s | {t_collect / n:.2f} s |")
    for phase in first.graded:
        g = first.graded[phase]
        if g:
            print(f"| grade-all: {phase} ({g} graded, jobs={args.jobs if phase == 'correctness' else 1}) | "
                  f"{first.seconds[phase]:.0f} s of grading | {first.seconds[phase] / g:.1f} s |")  # fmt: skip
    print(f"| grade-all total | {t_grade:.0f} s ({t_grade / 60:.1f} min) | {t_grade / n:.1f} s |")
    print(f"| reports (CSV, feedback, HTML) | {t_report:.1f} s | |")
    hits = sum(second.cached.values())
    regraded = sum(second.graded.values())
    print(f"| second grade-all | {t_second:.0f} s | {hits} phases from cache, {regraded} graded again |")
    print(f"\nfailures: {first.failures or 'none'}")
    finals = Counter()
    for r in results:
        finals[kinds[r.submission.student_id]] += r.final
    per_kind = Counter(kinds.values())
    print("mean final points by kind: " + ", ".join(f"{k} {finals[k] / per_kind[k]:.1f}" for k in sorted(per_kind)))
    ok = t_grade <= 12 * 60 and t_second <= 60
    print(f"\ntarget (≤ 12 min, second run ≤ 1 min): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
