"""Printable documents (PDF): layout only; it knows nothing of patients or the database."""
