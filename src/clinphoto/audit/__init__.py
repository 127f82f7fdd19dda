"""Tamper-evident audit trail (AUD-1)."""
