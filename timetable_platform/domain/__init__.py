"""Pure domain code: the timetable model, normalisation, readers of layouts, merge, validation, exports."""
