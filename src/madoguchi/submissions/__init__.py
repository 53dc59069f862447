"""Submissions: drafts that are never lost, what applicants send, and what happens next."""
