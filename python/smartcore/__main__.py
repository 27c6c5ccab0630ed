"""``python -m smartcore``: the same as the ``smartcore`` command."""

from smartcore.cli import main

raise SystemExit(main())
