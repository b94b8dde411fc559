"""parlab's grader: runs assignment tests safely, measures speedups, scores and reports."""

__version__ = "0.1.0"
