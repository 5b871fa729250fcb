import sys

from specs_vl.cli.app import app

sys.exit(app())
