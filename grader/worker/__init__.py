"""Runs inside the sandboxed worker process, next to untrusted student code.

Imports only `grader.core` (and itself): the worker side never imports the parent's."""
