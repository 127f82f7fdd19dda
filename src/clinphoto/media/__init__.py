"""clinphoto.media."""
