from tcpspec.cli import main

raise SystemExit(main())
