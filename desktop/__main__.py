"""``python -m desktop``: the same as the ``mergedesk`` command."""

from desktop.cli import main

raise SystemExit(main())
