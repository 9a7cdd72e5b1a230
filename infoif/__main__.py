"""`python -m infoif`: the command line (see `infoif.cli`)."""

import sys

from infoif.cli import main

sys.exit(main())
