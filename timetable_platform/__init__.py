"""timetable-platform: school timetable documents in, structured timetables out."""

__version__ = "0.1.0"

# Bumped whenever extraction output can change for the same input; it is the Dagster
# code_version of the extraction assets, so a bump marks every partition stale.
EXTRACTOR_VERSION = "2026.11.29.1"
