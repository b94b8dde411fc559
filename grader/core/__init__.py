"""What both sides share: records and rubric lines, the spec, the course layout, machine facts.

Nothing here runs student code or imports from the other folders."""
