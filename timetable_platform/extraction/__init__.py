"""Extraction: the two stages behind small interfaces, one module per backend; formats and limits."""
