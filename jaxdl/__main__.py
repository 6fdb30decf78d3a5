from jaxdl.cli import main

raise SystemExit(main())
