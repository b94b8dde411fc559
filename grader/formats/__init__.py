"""Output formats: each is a pure function from a `GradeReport` to text or a dict."""
