"""Remove the GUI build of OpenCV from the lock file.

rapidocr-onnxruntime declares ``opencv-python``, which links against libGL and X11 that a
server does not have. ``opencv-python-headless`` provides the same ``cv2`` module without
them, so the lock keeps only that one and ``make`` installs the lock with ``--no-deps``.
"""

import re
import sys
from pathlib import Path

path = Path(sys.argv[1])
text = path.read_text()
# A pinned block is the "name==version \" line, its hash lines, and its "# via" comments.
block = re.compile(r"^opencv-python==[^\n]*\n(?:(?:    |#  ).*\n)*", re.MULTILINE)
new, count = block.subn("", text)
if count != 1:
    sys.exit(f"expected one opencv-python block in {path}, found {count}")
path.write_text(new)
