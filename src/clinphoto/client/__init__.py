"""clinphoto.client."""
