"""clinphoto.cli."""
