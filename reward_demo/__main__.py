"""``python -m reward_demo <domain> <command>``: the project's command line (``reward_demo.cli``)."""
import sys

from .cli import main

sys.exit(main())
