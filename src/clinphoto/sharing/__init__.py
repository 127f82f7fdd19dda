"""clinphoto.sharing."""
