"""`python -m bot.cli` is `healthbot`."""

import sys

from bot.cli import main

sys.exit(main())
