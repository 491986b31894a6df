"""``python -m strongroom`` is the ``strongroom`` command."""

import sys

from strongroom.cli.main import main

sys.exit(main())
