"""Hidden tests for a1 (instructors only; never released).

Random values from a seed students cannot see, sizes that are not multiples of any block size,
size 1, both float dtypes, invalid arguments, and untouched inputs. Failure messages do not
reveal expected values (reveal=False).
"""

import math

import numpy as np
import pytest

from grader.testkit import INT_TYPES, assert_array_close, assert_race_free, assert_real_close, grade, hidden_rng

# ------------------------------------------------------------------------- task amdahl


@grade(task="amdahl", part="python", points=1)
def test_amdahl_models_on_random_inputs(impl):
    rng = hidden_rng(1)
    for _ in range(200):
        p = float(rng.uniform(0, 1))
        n = int(rng.integers(1, 4096))
        expected = 1.0 / ((1.0 - p) + p / n)
        assert_real_close(impl.amdahl_speedup(p, n), expected, rel=1e-9, what="amdahl_speedup on a random case", reveal=False)
        if n >= 2:
            assert_real_close(
                impl.karp_flatt(expected, n), 1.0 - p, rel=1e-6, abs=1e-9, what="karp_flatt inverting Amdahl", reveal=False
            )
    for p, target in [(0.5, 1.9), (0.95, 10.0), (0.99, 50.0), (0.75, 2.5), (1.0, 1000.0), (0.3, 1.0)]:
        n = impl.workers_needed(p, target)
        assert type(n) in INT_TYPES, "workers_needed must return an int"
        n = int(n)
        assert 1.0 / ((1 - p) + p / n) >= target - 1e-12, "workers_needed returned too few workers"
        assert n == 1 or 1.0 / ((1 - p) + p / (n - 1)) < target, "workers_needed did not return the smallest count"
    assert_real_close(impl.amdahl_speedup(1.0, 7), 7.0, rel=1e-12, what="amdahl_speedup of a fully parallel program")
    assert_real_close(impl.amdahl_speedup(0.25, 1), 1.0, rel=1e-12, what="amdahl_speedup with one worker")


@grade(task="amdahl", part="python", points=1)
def test_amdahl_rejects_invalid_arguments(impl):
    cases = [
        (impl.amdahl_speedup, (-0.1, 4)),
        (impl.amdahl_speedup, (1.01, 4)),
        (impl.amdahl_speedup, (0.5, 0)),
        (impl.amdahl_speedup, (0.5, -3)),
        (impl.amdahl_speedup, (0.5, 2.5)),
        (impl.amdahl_speedup, (float("nan"), 4)),
        (impl.karp_flatt, (2.0, 1)),
        (impl.karp_flatt, (0.0, 4)),
        (impl.karp_flatt, (-1.5, 4)),
        (impl.workers_needed, (0.9, 10.0)),
        (impl.workers_needed, (0.9, 12.0)),
        (impl.workers_needed, (0.0, 2.0)),
        (impl.workers_needed, (1.2, 2.0)),
        (impl.workers_needed, (0.5, 0.5)),
    ]
    for i, (fn, args) in enumerate(cases):
        with pytest.raises(ValueError):
            fn(*args)
            raise AssertionError(f"invalid case {i + 1} of {len(cases)} for {fn.__name__} did not raise ValueError")


# ------------------------------------------------------------------------- task fourier


def _inputs(n: int, dtype, salt: int) -> np.ndarray:
    return hidden_rng(salt).uniform(-2 * math.pi, 2 * math.pi, n).astype(dtype)


@grade(task="fourier", part="cpu", points=1)
def test_fourier_cpu_random_sizes_and_values(impl, reference, spec):
    part = spec.part("fourier", "cpu")
    terms = part.params["terms"]
    assert_race_free(impl.fourier_cpu, _inputs(257, np.float64, 150), terms)  # prange threads sharing scratch memory
    for salt, n in enumerate(part.sizes):
        x = _inputs(n, np.float64, 100 + salt)
        kept = x.copy()
        out = impl.fourier_cpu(x, terms)
        assert np.array_equal(x, kept), "fourier_cpu modified its input"
        assert_array_close(out, reference.fourier_serial(x, terms), what=f"fourier_cpu(x) for a size-{n} input", reveal=False)


@grade(task="fourier", part="cpu", points=1)
def test_fourier_cpu_float32_and_term_counts(impl, reference):
    assert_race_free(impl.fourier_cpu, _inputs(65, np.float32, 151), 3)
    for salt, (n, terms, dtype) in enumerate(
        [(1, 1, np.float32), (33, 5, np.float32), (4099, 17, np.float32), (513, 0, np.float64)]
    ):
        x = _inputs(n, dtype, 200 + salt)
        assert_array_close(
            impl.fourier_cpu(x, terms),
            reference.fourier_serial(x, terms),
            what=f"fourier_cpu(x, terms={terms}) for {np.dtype(dtype).name} input of size {n}",
            reveal=False,
        )


def _gpu_run(impl, gpu, x, terms):
    return gpu.to_host(impl.fourier_gpu(gpu.to_device(x), terms))


@grade(task="fourier", part="gpu", points=1)
def test_fourier_gpu_odd_sizes(impl, reference, spec, gpu):
    part = spec.part("fourier", "gpu")
    terms = part.params["terms"]
    for salt, n in enumerate(gpu.sizes(part)):
        x = _inputs(n, np.float64, 300 + salt)
        assert_array_close(
            _gpu_run(impl, gpu, x, terms),
            reference.fourier_serial(x, terms),
            what=f"fourier_gpu(x) for a size-{n} input",
            reveal=False,
        )


@grade(task="fourier", part="gpu", points=1)
def test_fourier_gpu_float32(impl, reference, spec, gpu):
    part = spec.part("fourier", "gpu")
    for salt, n in enumerate(gpu.sizes(part)[-2:]):
        x = _inputs(n, np.float32, 400 + salt)
        assert_array_close(
            _gpu_run(impl, gpu, x, 7),
            reference.fourier_serial(x, 7),
            what=f"fourier_gpu(x) for float32 input of size {n}",
            reveal=False,
        )
