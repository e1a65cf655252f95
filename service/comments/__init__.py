"""The comment domain: validation, sanitizing, submission, review and queries (no Flask)."""
