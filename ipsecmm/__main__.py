import sys

from ipsecmm.cli import main

sys.exit(main())
