"""clinphoto.core."""
