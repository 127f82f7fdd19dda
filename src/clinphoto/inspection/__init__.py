"""Custodian inspection of stored photos: identifiable or not (DEI-2, CON-4)."""
