"""clinphoto.accounts."""
