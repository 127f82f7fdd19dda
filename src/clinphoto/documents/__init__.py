"""Printable documents (PDF): a library of layout only, it knows nothing of patients or the database."""
