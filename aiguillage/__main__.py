"""`python -m aiguillage` runs the command line."""

import sys

from aiguillage.cli.main import main

sys.exit(main())
