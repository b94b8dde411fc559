"""Notebook courses: the assignments as Jupyter notebooks (built from the same sources as the
`.py` route), and exports for nbgrader and otter-grader. Grading a notebook with our own engine
is `grader/run/notebook.py`."""
