"""The speed helpers under the name the assignments' tests have always used (see `grader.worker.speed`)."""

from .worker.speed import grade_cpu_speedup, grade_gpu_speedup

__all__ = ["grade_cpu_speedup", "grade_gpu_speedup"]
