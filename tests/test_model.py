import jsonschema

from timetable_platform.domain.model import Entry, Source, Timetable, timetable_schema


def test_timetable_json_validates_against_the_shipped_schema() -> None:
    tt = Timetable(
        title="Class 7B",
        source=Source(filename="a.pdf", media_type="application/pdf", pages=1),
        entries=[Entry(day="MON", start="08:30", end="09:15", subject="Maths", confidence=0.9)],
    )
    jsonschema.validate(tt.to_json_dict(), timetable_schema())


def test_schema_rejects_a_bad_time() -> None:
    data = Timetable(entries=[Entry(day="MON", start="8:30", subject="Maths")]).to_json_dict()
    try:
        jsonschema.validate(data, timetable_schema())
    except jsonschema.ValidationError:
        return
    raise AssertionError("8:30 is not HH:MM and must be rejected")
