"""A whole class: collect from git, grade everyone, late and LMS policies, merge, overrides."""
