from pyclick.cli import main

raise SystemExit(main())
