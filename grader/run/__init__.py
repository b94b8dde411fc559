"""The trusted parent: chooses tests, starts the sandboxed worker, believes only its channel.

Nothing in `grader.worker` may import from here."""
