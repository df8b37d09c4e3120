"""`python -m restday` runs the command line."""

from restday.cli import main

raise SystemExit(main())
