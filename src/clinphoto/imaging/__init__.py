"""clinphoto.imaging: image handling that imports nothing else of ours."""
