"""clinphoto.instance."""
