"""Keeping and ending records (issue 10 §1; RET-1, RET-3, RET-5, STO-5): retention rules as
data, each item's destroy-not-before date, legal holds and clinical-decision marks, and the
retention sweep that destroys what has expired, with a certificate of destruction in the
audit trail. Decision record: docs/decisions/012-retention-and-destruction.md."""
