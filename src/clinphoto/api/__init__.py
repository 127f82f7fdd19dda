"""clinphoto.api."""
