"""clinphoto.storage."""
