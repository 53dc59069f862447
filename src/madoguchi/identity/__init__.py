"""Identity: who an applicant is. [P2] proves an email address by a one-time link; [P3] adds
the My Number card and passkeys."""
