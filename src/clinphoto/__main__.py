from clinphoto.cli.main import app

app()
