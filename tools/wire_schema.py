"""Write the JSON Schema of every wire format into docs/wire/ (``python -m tools.wire_schema``).

The files are the contract that clients in other languages build against; a test fails when
they differ from the models in clinphoto.core.wire, so a change to a format changes them too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from clinphoto.core import wire

OUT = Path(__file__).resolve().parents[1] / "docs" / "wire"


def rendered() -> dict[str, str]:
    return {
        name: json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in wire.schemas().items()
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote docs/wire/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
