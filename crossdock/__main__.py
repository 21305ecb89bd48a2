import sys

from crossdock.cli import main

sys.exit(main())
