"""The `grader` command: a thin layer over the functions that do the work.

Exit codes: 0 when the job completed (whatever the score), 1 when `validate` finds a problem,
2 for a usage mistake (unknown assignment, bad path or flag), 3 when the course itself is broken.
"""

from __future__ import annotations

import json
from collections import Counter
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .classroom.policies import PolicyError
from .core.course import Assignment, Course, CourseError, SubmissionLayoutError, find_course_root, find_module_folder
from .core.results import GradeReport, Status, write_text_atomic
from .core.spec import SpecError
from .formats import terminal
from .run.grade import GradingError, grade_submission


class Exit(IntEnum):
    OK = 0
    CHECKS_FAILED = 1
    USAGE = 2
    COURSE_BROKEN = 3


def _student_checkout() -> bool:
    """A student's template repository (no hidden tests, no solutions): `--help` shows the student's
    commands only. Staff commands still run if called; they are just not advertised there."""
    try:
        root = find_course_root()
    except CourseError:
        return False
    return not (root / "tests" / "hidden").is_dir() and not (root / "solutions").is_dir()


STUDENT_CHECKOUT = _student_checkout()

app = typer.Typer(
    name="grader",
    help=(
        "Grade parallel-programming assignments: correctness of CPU and GPU code, and measured speedup.\n\n"
        "Students: `grader test a1` runs the public tests on your code.\n"
        "TAs: `grader grade a1 --submission DIR --json out.json` grades with the hidden tests.\n"
        "Instructors: `grader validate` proves every assignment's solution gets full marks and its stub zero."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _console(stderr: bool = False) -> Console:
    """Rich console; logs and CI (not a terminal) get 120 columns instead of rich's default 80."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=120)


console = _console()
err_console = _console(stderr=True)

AssignmentArg = Annotated[str, typer.Argument(help="assignment folder name or short prefix, e.g. a1")]
CourseOpt = Annotated[
    Optional[Path],
    typer.Option("--course", help="course checkout holding assignments/ (default: found from the current folder)"),
]
GpuOpt = Annotated[
    Optional[str],
    typer.Option(
        "--gpu",
        help="GPU backend: auto (default), cuda (real GPU), cudasim (numba's CUDA simulator, correctness only), none",
        envvar="PARLAB_GPU",
        show_envvar=True,
    ),
]
SelectOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--select", "-s", metavar="TASK[.PART[.KIND]]",
        help="only these rubric lines, e.g. -s fourier.cpu or -s '*.*.correctness' (repeatable)",
    ),
]  # fmt: skip
JsonOpt = Annotated[Optional[Path], typer.Option("--json", help="also write the results as JSON to this file")]
ClassroomOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--classroom", metavar="FILE",
        help="append the GitHub Classroom reporter output (result=<base64 JSON>) to FILE, e.g. \"$GITHUB_OUTPUT\"",
    ),
]  # fmt: skip
JunitOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--junit", metavar="FILE",
        help="also write JUnit XML (the student view) for CI dashboards: GitLab, Jenkins, Azure; pending lines are skipped",
    ),
]  # fmt: skip
SummaryOpt = Annotated[
    Optional[Path],
    typer.Option("--summary", metavar="FILE", help='append a Markdown summary to FILE, e.g. "$GITHUB_STEP_SUMMARY"'),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="show every test, not just one row per rubric line")]
PendingAsZeroOpt = Annotated[
    bool,
    typer.Option(
        "--pending-as-zero", help="lms.csv: give students with pending points their current total instead of a blank cell"
    ),
]


def fail(message: str, code: Exit = Exit.USAGE) -> typer.Exit:
    err_console.print(Text(f"error: {message}", style="bold red"))
    return typer.Exit(int(code))


def _course(path: Path | None) -> Course:
    try:
        return Course.locate(path)
    except CourseError as exc:
        raise fail(str(exc)) from None


def _assignment(course: Course, ident: str) -> Assignment:
    try:
        return course.resolve(ident)
    except CourseError as exc:
        raise fail(str(exc)) from None
    except SpecError as exc:
        raise fail(str(exc), Exit.COURSE_BROKEN) from None


def _grade_and_show(
    assignment: Assignment,
    submission: Path,
    *,
    hidden: bool,
    gpu: str | None,
    select,
    json_path,
    verbose: bool,
    student_view: bool = False,
    classroom: Path | None = None,
    summary: Path | None = None,
    gradescope: Path | None = None,
    junit: Path | None = None,
) -> GradeReport:
    what = "public and hidden tests" if hidden else "public tests"
    try:
        found = find_module_folder(submission, assignment)
    except SubmissionLayoutError as exc:
        if gradescope is not None:
            _gradescope_failure(gradescope, exc)
        raise fail(str(exc)) from None
    if found != submission:
        console.print(Text(f"grading the submission in {found}", style="dim"))
        submission = found
    try:
        with console.status(f"{assignment.id}: running {what} on {submission} …"):
            report = grade_submission(assignment, submission, hidden=hidden, gpu=gpu, select=select)
    except GradingError as exc:
        if gradescope is not None:
            _gradescope_failure(gradescope, exc)
        raise fail(str(exc), Exit.USAGE if exc.usage else Exit.COURSE_BROKEN) from None
    full = report
    if student_view:
        report = report.for_students()
    terminal.render(report, console, verbose=verbose)
    outputs = []
    if json_path is not None:
        report.write_json(json_path)
        outputs.append(str(json_path))
    if classroom is not None:
        from .formats.github_classroom import write_step_output

        write_step_output(report, classroom)
        outputs.append(f"{classroom} (classroom)")
    if summary is not None:
        from .formats.markdown import summary as markdown_summary

        with open(summary, "a", encoding="utf-8") as f:
            f.write(markdown_summary(report))
        outputs.append(f"{summary} (summary)")
    if junit is not None:
        from .formats.junit import write_junit

        write_junit(full, junit)
        outputs.append(f"{junit} (junit)")
    if gradescope is not None:
        from .formats.gradescope import gradescope_results

        _write_text(gradescope, json.dumps(gradescope_results(full), indent=2))
        outputs.append(f"{gradescope} (gradescope)")
    if outputs:
        console.print(Text(f"results written to {', '.join(outputs)}", style="dim"))
    return report


def _gradescope_failure(path: Path, exc: Exception) -> None:
    """Gradescope shows a results file, never a traceback."""
    _write_text(path, json.dumps({"score": 0, "output": f"The autograder could not grade this: {exc}", "tests": []}))


def _write_text(path: Path, text: str) -> None:
    write_text_atomic(path, text + "\n")  # a reader (Gradescope, CI) sees the old file or the whole new one


@app.command("list")
def list_assignments(course: CourseOpt = None) -> None:
    """List the course's assignments with their titles and points."""
    c = _course(course)
    table = Table(show_edge=False)
    for col in ("id", "title", "tasks", "points"):
        table.add_column(col)
    for folder in c.assignment_folders():
        try:
            a = c.load(folder)
        except SpecError as exc:
            table.add_row(folder.name, Text(f"broken spec: {exc}", style="red"), "", "")
            continue
        tasks = ", ".join(f"{t.name} ({'/'.join(p.value for p in t.parts)})" for t in a.spec.tasks)
        table.add_row(a.id, a.spec.title, tasks, f"{a.spec.max_score:g}")
    console.print(table)


@app.command("test")
def test(
    assignment: AssignmentArg,
    submission: Annotated[
        Optional[Path], typer.Option("--submission", help="folder with your module or notebook (default: the assignment folder)")
    ] = None,
    select: SelectOpt = None,
    gpu: GpuOpt = None,
    json_path: JsonOpt = None,
    verbose: VerboseOpt = False,
    course: CourseOpt = None,
    classroom: ClassroomOpt = None,
    summary: SummaryOpt = None,
    junit: JunitOpt = None,
) -> None:
    """Run the public tests on your code: correctness, and speedup measured on this machine.

    \b
    Example: grader test a1            (your code in assignments/a1_*/)
             grader test a1 -s fourier.cpu -v
             grader test a1 --classroom "$GITHUB_OUTPUT" --summary "$GITHUB_STEP_SUMMARY"   (in CI)
    """
    a = _assignment(_course(course), assignment)
    _grade_and_show(
        a, submission or a.folder, hidden=False, gpu=gpu, select=select, json_path=json_path, verbose=verbose,
        classroom=classroom, summary=summary, junit=junit,
    )  # fmt: skip


@app.command("grade", hidden=STUDENT_CHECKOUT)
def grade(
    assignment: AssignmentArg,
    submission: Annotated[
        Path, typer.Option("--submission", help="folder holding the student's module, or the notebook (.ipynb) handed in instead")
    ],
    json_path: JsonOpt = None,
    select: SelectOpt = None,
    gpu: GpuOpt = None,
    verbose: VerboseOpt = False,
    course: CourseOpt = None,
    student_view: Annotated[
        bool,
        typer.Option(
            "--student-view", help="show and write what a student may see: hidden tests with opaque names and generic messages"
        ),
    ] = False,
    classroom: ClassroomOpt = None,
    summary: SummaryOpt = None,
    gradescope: Annotated[
        Optional[Path],
        typer.Option("--gradescope", metavar="FILE", help="also write Gradescope's results.json (student view) to FILE"),
    ] = None,
    junit: JunitOpt = None,
) -> None:
    """Grade a submission with the public and hidden tests (course repository only).

    Exits 0 whenever grading completed, whatever the score; a submission that is missing, does
    not import or crashes gets zero for the affected tests and the rest are still graded.

    The submission runs isolated with bubblewrap (its own processes, files and network; the report
    says `isolation: full`); where that is not possible it runs with reduced isolation and a
    warning. PARLAB_ISOLATION=required refuses to grade without isolation, =off turns it off.

    \b
    Example: grader grade a1 --submission solutions/a1_speedup --json results/a1.json
    """
    a = _assignment(_course(course), assignment)
    _grade_and_show(
        a, submission, hidden=True, gpu=gpu, select=select, json_path=json_path, verbose=verbose, student_view=student_view,
        classroom=classroom, summary=summary, gradescope=gradescope, junit=junit,
    )  # fmt: skip


@app.command("new", hidden=STUDENT_CHECKOUT)
def new(
    assignment: Annotated[str, typer.Argument(help="the new assignment's id, e.g. a6_scan (its folder name)")],
    module: Annotated[
        Optional[str], typer.Option("--module", help="the student module's name (default: the id after its prefix)")
    ] = None,
    title: Annotated[Optional[str], typer.Option("--title", help="the assignment's title")] = None,
    course: CourseOpt = None,
) -> None:
    """Start a new assignment from a complete, working example that `grader validate` accepts at once.

    Writes the spec, stub, handout and public tests (assignments/ID/), the solution, hidden tests,
    two known-wrong and one correct-but-different submission, then you replace its one task with
    yours (docs/authoring.md walks through every file). Nothing existing is overwritten.

    \b
    Example: grader new a6_scan --title "Prefix sums and stream compaction"
             grader validate a6_scan
    """
    from .staff.new_assignment import ScaffoldError, new_assignment

    c = _course(course)
    try:
        written = new_assignment(c.root, assignment, module, title)
    except ScaffoldError as exc:
        raise fail(str(exc)) from None
    for path in written:
        console.print(f"  wrote {path.relative_to(c.root)}")
    console.print(f"next: grader validate {assignment}   (then make the task your own: docs/authoring.md)")


@app.command("validate", hidden=STUDENT_CHECKOUT)
def validate(
    assignments: Annotated[Optional[list[str]], typer.Argument(help="assignments to check (default: all)")] = None,
    gpu: GpuOpt = None,
    select: SelectOpt = None,
    course: CourseOpt = None,
) -> None:
    """Check assignments end to end: spec, stub/solution API, points, full marks for the solution, zero for the stub.

    With -s, the solution and stub are graded on the selected rubric lines only, e.g.
    `-s '*.*.correctness'` on a busy machine, then `-s '*.*.performance'` on a quiet one.
    """
    from .staff.validate import validate_assignment

    c = _course(course)
    if assignments:
        chosen = [_assignment(c, ident) for ident in assignments]
    else:
        chosen = []
        for folder in c.assignment_folders():
            try:
                chosen.append(c.load(folder))
            except SpecError as exc:
                raise fail(str(exc), Exit.CHECKS_FAILED) from None
    all_ok = True
    for a in chosen:
        with console.status(f"validating {a.id} …") as status:
            result = validate_assignment(a, gpu=gpu, select=select, progress=lambda msg: status.update(msg + " …"))
        table = Table(title=f"{a.id} · {a.spec.title}", show_edge=False, title_justify="left")
        table.add_column("check")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        for check in result.checks:
            table.add_row(
                check.name, Text("ok" if check.ok else "FAILED", style="green" if check.ok else "bold red"), check.detail
            )
        console.print(table)
        all_ok &= result.ok
    if not all_ok:
        raise typer.Exit(int(Exit.CHECKS_FAILED))


@app.command("release", hidden=STUDENT_CHECKOUT)
def release(
    assignment: AssignmentArg,
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="folder for the student repository (default: release/<assignment>)")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="replace --out if it exists")] = False,
    course: CourseOpt = None,
) -> None:
    """Build the student template repository for an assignment (instructors).

    Handout, stubs, public tests, the grader, a CI workflow and a manifest of protected files,
    committed as a new git repository. Refuses to finish if any non-trivial line of a solution or
    hidden test would be in it. Push the result to a template repository on GitHub.

    \b
    Example: grader release a1 --out ../a1-template
    """
    from .staff.release import ReleaseError, build_release

    c = _course(course)
    a = _assignment(c, assignment)
    target = out or c.root / "release" / a.folder.name
    try:
        made = build_release(a, target, force=force)
    except ReleaseError as exc:
        raise fail(str(exc), Exit.CHECKS_FAILED) from None
    console.print(f"[bold]{a.id}[/bold] released to {made.path} (commit {made.commit[:10]}, {len(made.files)} files, "
                  f"{len(made.protected)} protected; no solution or hidden-test line found)")  # fmt: skip


export_app = typer.Typer(help="Package an assignment for another grading platform.", no_args_is_help=True)
app.add_typer(export_app, name="export", hidden=STUDENT_CHECKOUT)


@export_app.command("gradescope")
def export_gradescope(
    assignment: AssignmentArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="zip to write, e.g. autograder.zip")] = Path("autograder.zip"),
    course: CourseOpt = None,
) -> None:
    """Write a Gradescope autograder zip (setup.sh, run_autograder, the course's grader and tests).

    INSTRUCTORS ONLY: the zip holds the hidden tests and the solution. Upload it to Gradescope
    (programming assignment, autograder settings); never share it with students.
    To try it here: unzip into DIR/source, put a submission in DIR/submission, then run
    PARLAB_AUTOGRADER_ROOT=DIR PARLAB_GRADER=$(which grader) bash DIR/source/run_autograder

    \b
    Example: grader export gradescope a1 -o a1-autograder.zip
    """
    from .staff.gradescope_package import build_gradescope_zip

    a = _assignment(_course(course), assignment)
    names = build_gradescope_zip(a, out)
    console.print(f"wrote {out}: {len(names)} files (holds hidden tests: instructors only)")


@export_app.command("nbgrader")
def export_nbgrader_cmd(
    assignment: AssignmentArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="nbgrader course folder to create or update")],
    course: CourseOpt = None,
) -> None:
    """Write an nbgrader course folder: source/<id>/<id>.ipynb, nbgrader_config.py.

    INSTRUCTORS ONLY: the source notebook holds the solution and the hidden tests' calls. The
    notebook's test cells grade with this grader (sandbox, hidden tests, timing), so the machine
    that runs `nbgrader autograde` needs this course checkout and `pip install -e '.[notebooks]'`.
    A speed line that machine cannot judge shows as an error starting with PENDING (0 in
    nbgrader's gradebook, not a grade): regrade it with `grader grade` and override by hand.

    \b
    Example: grader export nbgrader a1 --out nbgrader-course
             cd nbgrader-course && nbgrader generate_assignment a1_speedup && nbgrader autograde a1_speedup
    """
    from .notebooks.nbgrader import NbgraderUnavailable, export_nbgrader, generate_student_version

    a = _assignment(_course(course), assignment)
    try:
        made = export_nbgrader(a, out)
    except OSError as exc:
        raise fail(f"cannot write the nbgrader folder {out}: {exc.strerror or exc}") from None
    console.print(f"wrote {made.notebook} ({len(made.lines)} graded rubric lines) and {made.root / 'nbgrader_config.py'}")
    try:
        student, leaks = generate_student_version(made)
    except NbgraderUnavailable as exc:
        console.print(f"{exc}; then: cd {made.root} && nbgrader generate_assignment {a.id}")
        return
    except RuntimeError as exc:  # nbgrader refused the notebook: its own message says why
        raise fail(str(exc), Exit.CHECKS_FAILED) from None
    if leaks:
        found = "; ".join(f"{where}: {line[:80]}" for where, line in leaks[:5])
        raise fail(f"the student version {student} quotes the solution or hidden tests: {found}", Exit.CHECKS_FAILED)
    console.print(f"student version: {student} (nbgrader generate_assignment; no solution or hidden-test line in it)")


@export_app.command("otter")
def export_otter_cmd(
    assignment: AssignmentArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for the Otter Assign master notebook")],
    course: CourseOpt = None,
) -> None:
    """Write an Otter Assign master notebook (format v1): OUT/<id>.ipynb.

    INSTRUCTORS ONLY: it holds the solution and the hidden test cases. Each rubric line is a
    question whose test cases grade it with this grader (points in quarter steps); a line the
    grading machine cannot judge fails with a message starting with PENDING (not a grade).

    \b
    Example: grader export otter a1 --out otter-a1
             cd otter-a1 && otter assign --no-run-tests a1_speedup.ipynb dist
             otter run -a dist/autograder/*.zip submission.ipynb      # results.json
    """
    from .notebooks.otter import export_otter

    a = _assignment(_course(course), assignment)
    try:
        made = export_otter(a, out)
    except OSError as exc:
        raise fail(f"cannot write the otter folder {out}: {exc.strerror or exc}") from None
    console.print(f"wrote {made.notebook} ({len(made.lines)} rubric lines as otter questions)")
    console.print(f"next: cd {made.root} && otter assign --no-run-tests {made.notebook.name} dist")


@app.command("collect", hidden=STUDENT_CHECKOUT)
def collect_cmd(
    assignment: AssignmentArg,
    roster: Annotated[Path, typer.Option("--roster", help="CSV: student_id,name,repo[,extension_days]")],
    deadline: Annotated[str, typer.Option("--deadline", help="ISO 8601 with a time zone, e.g. 2026-12-01T23:59:00+01:00")],
    out: Annotated[Path, typer.Option("--out", "-o", help="submissions folder to create or update")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="repositories fetched at once")] = 4,
    course: CourseOpt = None,
) -> None:
    """Clone or fetch every student's repository and check out the commit to grade (TAs).

    The last commit at or before the student's deadline (roster extension_days added), or the
    latest within the late window of course.toml's [late] policy, with its lateness and penalty
    recorded. Missing or broken repositories are recorded as such; the rest go on. Rerunning
    fetches again.

    \b
    Example: grader collect a1 --roster roster.csv --deadline 2026-12-01T23:59:00+01:00 --out subs/a1
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .classroom.collect import BatchError, collect, parse_deadline, read_roster
    from .classroom.policies import PolicyError, load_late_policy

    c = _course(course)
    a = _assignment(c, assignment)
    try:
        students = read_roster(roster)
        when = parse_deadline(deadline)
        policy = load_late_policy(c.root)
    except (BatchError, PolicyError) as exc:
        raise fail(str(exc)) from None
    columns = (TextColumn("collect"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("collect", total=len(students))
        subs = collect(a, students, when, out, policy, roster=roster, jobs=jobs, on_done=lambda s: bar.advance(task))
    table = Table(show_edge=False)
    for col in ("student", "status", "commit", "committed", "late", "penalty", "note"):
        table.add_column(col)
    for s in subs:
        late = f"{s.late_seconds / 3600:.1f} h" if s.late_seconds else ""
        table.add_row(
            s.student_id, s.status, s.sha[:10], s.commit_time, late, f"{s.penalty:.0%}" if s.penalty else "", s.message[:60]
        )
    console.print(table)
    counts = {st: sum(s.status == st for s in subs) for st in ("ok", "missing", "broken", "no_commit")}
    console.print(", ".join(f"{n} {st}" for st, n in counts.items() if n) + f" · written to {out}")


@app.command("grade-all", hidden=STUDENT_CHECKOUT)
def grade_all_cmd(
    assignment: AssignmentArg,
    submissions: Annotated[Path, typer.Option("--submissions", help="folder written by `grader collect`")],
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="correctness gradings at once (speed is always one at a time)")
    ] = 2,
    gpu: GpuOpt = None,
    report_dir: Annotated[
        Optional[Path], typer.Option("--report", help="where gradebook, feedback and HTML go (default: SUBMISSIONS/report)")
    ] = None,
    pending_as_zero: PendingAsZeroOpt = False,
    course: CourseOpt = None,
    cluster: Annotated[
        Optional[str],
        typer.Option(
            "--cluster",
            metavar="ADDRESS|local|config",
            help="grade on a Dask cluster: a running scheduler (tcp://host:8786), `local` (worker processes on this "
            "machine) or `config` (course.toml's [cluster]: local, an address or Slurm); needs the cluster extra",
        ),
    ] = None,
) -> None:
    """Grade every collected submission with the hidden tests, then write the gradebook (TAs).

    Correctness runs in parallel, speed one submission at a time. Results are cached per commit
    and test-suite version: rerunning (after a crash, a kill, or new commits) grades only what is
    missing. Then writes gradebook.csv, lms.csv (Canvas import), feedback/<student>.md, report.html.
    Each submission runs isolated (bubblewrap: ci/system-packages.sh installs it); without that a
    warning says so, and a submission that kills grade-all twice is skipped with an error.

    With --cluster the gradings run on Dask workers (same phases, cache and resume): correctness on
    every core, each timing alone on its machine, GPU lines on workers that declare a GPU.

    \b
    Example: grader grade-all a1 --submissions subs/a1 --jobs 2
    Example: grader grade-all a1 --submissions subs/a1 --cluster tcp://head:8786
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .classroom.cluster import ClusterError, connect
    from .classroom.collect import BatchError
    from .classroom.grade_all import grade_all
    from .run.isolation import IsolationUnavailable, require, warning

    a = _assignment(_course(course), assignment)
    try:
        iso = require()
    except IsolationUnavailable as exc:
        raise fail(str(exc)) from None
    if not iso.full:
        err_console.print(Text(warning(iso.why), style="bold yellow"))
    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    tasks: dict[str, int] = {}
    grading_cluster = None
    if cluster is not None:
        try:
            grading_cluster = connect(cluster, a.course_root)
        except ClusterError as exc:
            raise fail(str(exc)) from None
    with Progress(*columns, console=console) as bar:

        def on_phase(phase: str, total: int) -> None:
            tasks[phase] = bar.add_task(phase, total=total)

        try:
            stats = grade_all(
                a,
                submissions,
                jobs=jobs,
                gpu=gpu,
                on_phase=on_phase,
                on_done=lambda ph, s, c: bar.advance(tasks[ph]),
                cluster=grading_cluster,
            )
        except BatchError as exc:  # a ClusterError too: a worker with another course version
            raise fail(str(exc)) from None
        except GradingError as exc:
            raise fail(
                f"{exc}\nRerun grade-all once the course is restored: finished gradings are kept.", Exit.COURSE_BROKEN
            ) from None
        finally:
            if grading_cluster is not None:
                _print_worker_summary(grading_cluster.intervals)
                grading_cluster.close()
    for phase in stats.graded:
        n, cached, secs = stats.graded[phase], stats.cached[phase], stats.seconds[phase]
        per = f", {secs / n:.1f} s each" if n else ""
        console.print(f"{phase}: {n} graded{per}, {cached} from cache")
    for failure in stats.failures:
        err_console.print(Text(f"not graded: {failure}", style="red"))
    _write_reports(a, submissions, report_dir or submissions / "report", stats.failures, pending_as_zero=pending_as_zero)


def _print_worker_summary(intervals: list[dict]) -> None:
    """Per Dask worker: gradings run and busy seconds, by phase."""
    by_worker: dict[str, dict[str, list[float]]] = {}
    for it in intervals:
        by_worker.setdefault(it["worker"], {}).setdefault(it["phase"], []).append(it["end"] - it["start"])
    for worker, phases in sorted(by_worker.items()):
        parts = ", ".join(f"{phase} {len(v)} ({sum(v):.0f} s)" for phase, v in sorted(phases.items()))
        console.print(f"worker {worker}: {parts}")


@app.command("report", hidden=STUDENT_CHECKOUT)
def report_cmd(
    assignment: AssignmentArg,
    submissions: Annotated[Path, typer.Option("--submissions", help="folder written by `grader collect` and `grade-all`")],
    report_dir: Annotated[Optional[Path], typer.Option("--report", help="output folder (default: SUBMISSIONS/report)")] = None,
    pending_as_zero: PendingAsZeroOpt = False,
    course: CourseOpt = None,
) -> None:
    """Write the gradebook, LMS CSV, per-student feedback and the HTML class report again from saved results.

    lms.csv leaves blank the students whose points are still pending (and, unless course.toml says
    [lms] missing = "zero", those with nothing to grade), and says who they are.
    """
    a = _assignment(_course(course), assignment)
    _write_reports(a, submissions, report_dir or submissions / "report", [], pending_as_zero=pending_as_zero)


def _pending_summary(a: Assignment, submissions: Path, results) -> list[str]:
    """What is still pending across the class, why, and the command that resolves it."""
    by_kind: dict[str, tuple[float, set[str]]] = {}
    for r in results:
        for t in r.report.tests:
            if t.status is Status.deferred:
                kind = "GPU" if t.part == "gpu" else "CPU"
                points, who = by_kind.get(kind, (0.0, set()))
                by_kind[kind] = (points + t.max_score, who | {r.submission.student_id})
    fix = {
        "GPU": f"on a machine with an NVIDIA GPU: grader grade-all {a.id} --submissions {submissions} --gpu cuda",
        "CPU": f"on a quiet machine with 2 or more free cores: grader grade-all {a.id} --submissions {submissions}",
    }
    why = {"GPU": "GPU speed lines need a real GPU", "CPU": "CPU speed lines the machine was too busy to judge"}
    return [
        f"pending: {points:g} points of {len(who)} student(s) ({why[kind]}); to grade them, {fix[kind]}"
        for kind, (points, who) in sorted(by_kind.items())
    ]


def _write_reports(a: Assignment, submissions: Path, out: Path, failures: list[str], *, pending_as_zero: bool = False) -> None:
    from .classroom.collect import BatchError
    from .classroom.overrides import OverrideError
    from .classroom.records import load_results
    from .formats.gradebook import write_gradebook
    from .formats.html_report import class_report

    try:
        results = load_results(submissions, a)
    except (BatchError, OverrideError) as exc:
        raise fail(str(exc)) from None
    if not results:
        raise fail(f"no graded results in {submissions}: run `grader grade-all` first")
    try:
        _, notes = write_gradebook(a, results, out, pending_as_zero=pending_as_zero)
    except PolicyError as exc:
        raise fail(str(exc)) from None
    (out / "report.html").write_text(class_report(a, results, failures=failures), encoding="utf-8")
    incomplete = sum(1 for r in results if r.submission.status == "ok" and not r.complete)
    console.print(f"gradebook for {len(results)} students written to {out}/ (gradebook.csv, lms.csv, feedback/, report.html)")
    for line in _pending_summary(a, submissions, results) + notes:
        err_console.print(Text(line, style="yellow"))
    if incomplete:
        err_console.print(Text(f"{incomplete} submission(s) not fully graded: rerun grade-all to finish them", style="yellow"))


@app.command("override", hidden=STUDENT_CHECKOUT)
def override_cmd(
    assignment: AssignmentArg,
    submissions: Annotated[Path, typer.Option("--submissions", help="the class folder (written by collect and grade-all)")],
    student: Annotated[Optional[str], typer.Option("--student", help="student_id from the roster")] = None,
    line: Annotated[
        Optional[str], typer.Option("--line", help="rubric line task.part.kind (see the gradebook), or 'total'")
    ] = None,
    points: Annotated[Optional[float], typer.Option("--points", help="the points to give on that line")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="remove the override on that line (logged too)")] = False,
    reason: Annotated[str, typer.Option("--reason", help="why: the student reads it in their feedback")] = "",
    by: Annotated[Optional[str], typer.Option("--by", help="who sets it (default: $PARLAB_TA, else your login)")] = None,
    course: CourseOpt = None,
) -> None:
    """Set a student's rubric line or total by hand, with a reason, or list every override (no --student).

    Overrides live in SUBMISSIONS/overrides.json, an append-only log (who, when, why, old -> new);
    they survive re-grading and re-reporting, count in gradebook.csv and lms.csv, and show in the
    student's feedback. The reports are written again afterwards.

    \b
    Example: grader override a1 --submissions subs/a1 --student s001 --line fourier.gpu.performance
             --points 2 --reason "GPU speedup checked by hand on the lab machine"
    """
    from .classroom.collect import BatchError
    from .classroom.overrides import OverrideError, add, read_log
    from .classroom.records import load_results

    a = _assignment(_course(course), assignment)
    try:
        if student is None:
            log = read_log(submissions)
            for entry in log:
                console.print(f"{entry.student_id}: {entry.describe()}")
            if not log:
                console.print(f"no overrides in {submissions}")
            return
        if line is None or (points is None) == (not clear):
            raise fail("give --line and either --points or --clear")
        results = {r.submission.student_id: r for r in load_results(submissions, a)}
        if student not in results:
            raise fail(f"no graded student {student!r} in {submissions} (known: {', '.join(sorted(results)) or 'none'})")
        entry = add(submissions, a, results[student].report, student, line, None if clear else points, reason, by)
    except (BatchError, OverrideError) as exc:
        raise fail(str(exc)) from None
    console.print(f"{student}: {entry.describe()}")
    _write_reports(a, submissions, submissions / "report", [])


@app.command("merge-class", hidden=STUDENT_CHECKOUT)
def merge_class_cmd(
    assignment: AssignmentArg,
    submissions: Annotated[Path, typer.Option("--submissions", help="this class's folder (written by collect and grade-all)")],
    other: Annotated[
        Path, typer.Option("--from", help="the same class graded elsewhere (e.g. the folder copied back from a GPU machine)")
    ],
    report_dir: Annotated[Optional[Path], typer.Option("--report", help="output folder (default: SUBMISSIONS/report)")] = None,
    pending_as_zero: PendingAsZeroOpt = False,
    course: CourseOpt = None,
) -> None:
    """Fill a class's pending lines from another grading of the same commits, then write the reports again.

    Typical use: copy the submissions folder to a machine with a GPU, run `grader grade-all ...
    --gpu cuda` there (it grades only the pending lines), bring the folder back and merge it.
    Per test, a judged result beats a pending one and a real GPU beats the simulator; each merged
    record names the run it came from. Students whose commit differs are skipped and listed.

    \b
    Example: grader merge-class a1 --submissions subs/a1 --from gpu-box/subs/a1
    """
    from .classroom.collect import BatchError
    from .classroom.merge_class import merge_class

    a = _assignment(_course(course), assignment)
    try:
        stats = merge_class(a, submissions, other)
    except BatchError as exc:
        raise fail(str(exc)) from None
    console.print(f"merged results of {len(stats.merged)} student(s) from {other}")
    for line in stats.skipped:
        err_console.print(Text(f"not merged: {line}", style="yellow"))
    _write_reports(a, submissions, report_dir or submissions / "report", [], pending_as_zero=pending_as_zero)


@app.command("merge", hidden=STUDENT_CHECKOUT)
def merge_cmd(
    results: Annotated[list[Path], typer.Argument(help="results JSON files of one submission (from --json)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="merged results JSON to write")],
    verbose: VerboseOpt = False,
) -> None:
    """Combine gradings of the same submission from different machines (e.g. CI + the GPU machine).

    A test deferred in one run is filled from a run that judged it; a real GPU beats the
    simulator for GPU parts; otherwise the newest run wins. Each test keeps where it came from.

    \b
    Example: grader merge ci.json gpu-box.json -o final.json
    """
    from .classroom.merge import MergeError, merge_files

    try:
        merged = merge_files(results)
    except MergeError as exc:
        raise fail(str(exc)) from None
    terminal.render(merged, console, verbose=verbose)
    merged.write_json(out)
    sources = Counter(t.provenance.get("source", "?") for t in merged.tests)
    counts = ", ".join(f"{n} tests from {source}" for source, n in sources.items())
    console.print(Text(f"merged results written to {out} ({counts})", style="dim"))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
