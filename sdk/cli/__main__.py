"""`python -m weir.sdk.cli`: the same as the `weir` console script."""

from weir.sdk.cli import main

raise SystemExit(main())
