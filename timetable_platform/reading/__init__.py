"""The reading engine: layout (words, lines, tables) in, timetable blocks and entries out.

Pure like ``domain`` (no I/O), but it is the engine, not the model: table finding from word
positions, grid and record-table readers, list-style readers, the word-stream readers, the cell
splitter that assigns subject / teacher / room / group, and the interpretation that picks one
reading per document. ``domain`` holds the timetable model it produces; ``extraction`` calls it.
"""
