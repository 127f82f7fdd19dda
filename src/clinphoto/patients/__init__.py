"""clinphoto.patients."""
