"""`python -m local.host`: see main.py."""

import sys

from local.host.main import main

sys.exit(main())
