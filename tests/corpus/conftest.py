"""The corpus tests are marked ``corpus`` so they can be selected or left out (-m)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "corpus: runs the scrubber over the downloaded image corpus (tools/corpus.py)"
    )
