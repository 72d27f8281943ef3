import sys

from timetable_platform.cli import main

sys.exit(main())
