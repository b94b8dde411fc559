#!/usr/bin/env bash
# The one command for the first machine with an NVIDIA GPU (under 8 minutes). From the repository root:
#
#     .venv/bin/pip install -e '.[gpu]'     # once: CuPy and numba-cuda's CUDA 12 bindings
#     bash benchmarks/gpu_check.sh [OUT]    # OUT defaults to gpu-check-<date>
#
# Writes everything to OUT: versions, a smoke test under the worker's own limits, the probes behind
# the GPU fixes (FMA contraction, a5 pixel differences, a2 dot rounding, a kernel on its own stream),
# then every assignment's reference solution and a serial impostor graded on the GPU lines with
# `--gpu cuda`, isolated and (a1) with isolation off; a summary table is appended to
# benchmarks/README.md. Stops early, saying why, where there is no GPU or the gpu extra is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
GRADER=.venv/bin/grader
OUT="${1:-gpu-check-$(date -u +%Y%m%d-%H%M%S)}"

stop() { echo "gpu_check: $*" >&2; exit 2; }
[ -x "$PY" ] || stop "no .venv here: run the README's set-up first"
"$PY" -c "import cupy" 2>/dev/null || stop "the gpu extra is not installed: .venv/bin/pip install -e '.[gpu]'"
command -v nvidia-smi >/dev/null || [ -e /dev/nvidia0 ] || stop "no NVIDIA GPU on this machine (no nvidia-smi, no /dev/nvidia0): run this on the GPU machine"
mkdir -p "$OUT"
echo "gpu_check: writing to $OUT"
started=$(date +%s)

nvidia-smi --query-gpu=name,driver_version,compute_mode,mig.mode.current,memory.total --format=csv > "$OUT/nvidia-smi.csv" 2>&1 || true
for probe in versions smoke fma tiles dot stream; do
    echo "gpu_check: probe $probe"
    timeout 300 "$PY" benchmarks/gpu_probes.py "$probe" > "$OUT/probe-$probe.json" 2> "$OUT/probe-$probe.err" \
        || echo "{\"probe\": \"$probe\", \"failed\": true}" >> "$OUT/probe-$probe.json"
done

# A serial impostor on the GPU lines: the CPU reference, handed back as a device array.
mkdir -p "$OUT/impostor"
cp solutions/a1_speedup/speedup.py "$OUT/impostor/speedup.py"
cat >> "$OUT/impostor/speedup.py" <<'PYEOF'


def fourier_gpu(x, terms):  # the serial CPU code dressed as a kernel
    import cupy
    return cupy.asarray(fourier_serial(cupy.asnumpy(x), terms))
PYEOF

grade() {  # label, assignment, submission, extra env...
    local label="$1" id="$2" sub="$3"; shift 3
    echo "gpu_check: grading $label"
    env "$@" timeout 240 "$GRADER" grade "$id" --submission "$sub" --gpu cuda --select '*.gpu.*' \
        --json "$OUT/grade-$label.json" > "$OUT/grade-$label.txt" 2>&1
    echo "$label exit $?" >> "$OUT/exit-codes.txt"
}
for a in a1_speedup a2_races a3_stencil a4_matmul a5_pipelines; do
    grade "$a" "${a%%_*}" "solutions/$a"
done
grade a1-impostor a1 "$OUT/impostor"
grade a1-isolation-off a1 solutions/a1_speedup PARLAB_ISOLATION=off

"$PY" - "$OUT" <<'PYEOF' | tee "$OUT/summary.md" >> benchmarks/README.md
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
print(f"\n### gpu_check.sh, {out.name}\n")
for f in sorted(out.glob("probe-*.json")):
    print(f"- `{f.stem}`: {f.read_text().strip()[:600]}")
print("\n| grading | isolation | score | GPU lines (status, points, message) |\n|---|---|---|---|")
for f in sorted(out.glob("grade-*.json")):
    r = json.loads(f.read_text())
    lines = "; ".join(f"{t['task']}.{t['kind']} {t['status']} {t['score']:g}/{t['max_score']:g} {t['message'][:80]}" for t in r["tests"])
    print(f"| {f.stem[6:]} | {r.get('isolation', '')} | {r['score']:g}/{r['max_score']:g} | {lines} |")
PYEOF
echo "gpu_check: done in $(( $(date +%s) - started )) s; summary in $OUT/summary.md (also appended to benchmarks/README.md)"
