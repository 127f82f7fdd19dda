"""Patients' requests (RET-3, RET-4, CON-7, BEY-6): copies of their record and deletion requests."""
