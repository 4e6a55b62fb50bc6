"""`python -m aiguillage` runs the command line."""

from aiguillage.cli.main import entry

entry()
