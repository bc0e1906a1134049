"""Entry point for ``python -m emotion``."""

import sys

from emotion.app.cli import main

sys.exit(main())
