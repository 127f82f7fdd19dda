"""The one compiled part of clinphoto: the JPEG scrubber's scan (decision 009).

Everything else is in pyproject.toml. The extension is optional: on a machine without a C
compiler or Python's headers the install still succeeds, and the scrubber uses the same scan
written in Python (slower, same answers; `clinphoto.imaging.jpeg.SCAN` says which is in use).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "clinphoto.imaging._jpegscan",
            ["src/clinphoto/imaging/_jpegscan.c"],
            optional=True,
        )
    ]
)
