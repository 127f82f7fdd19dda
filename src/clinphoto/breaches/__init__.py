"""The breach register (BRE-1 to BRE-6): reports, containment, assessment, notification."""
