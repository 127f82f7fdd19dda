"""The scrubber run over real-world image corpora (DEI-1); see docs/deidentification.md."""
