"""clinphoto.consent."""
