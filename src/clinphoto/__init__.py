"""clinphoto: secure clinical photography for clinicians in Canada."""

__version__ = "0.1.0"
