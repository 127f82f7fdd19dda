"""Privacy officers' reports: who saw a patient's records, and what was disclosed under
purposes later withdrawn (BEY-6, CON-7)."""
