from pnet.cli import main

raise SystemExit(main())
