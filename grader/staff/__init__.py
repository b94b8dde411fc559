"""Instructor commands: validate an assignment, build the student template, package for Gradescope."""
