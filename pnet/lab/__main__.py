import sys

from pnet.lab.cli import main

raise SystemExit(main(sys.argv[1:]))
