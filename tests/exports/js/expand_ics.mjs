// Expands every VEVENT of an iCalendar file with ical.js (the parser Thunderbird-style web clients use),
// reading its VTIMEZONE blocks rather than a built-in zone database.
// Usage: node expand_ics.mjs FILE FROM TO   (dates YYYY-MM-DD, TO exclusive); prints JSON occurrences.
import fs from 'node:fs';
import ICAL from 'ical.js';

const [file, from, to] = process.argv.slice(2);
const root = new ICAL.Component(ICAL.parse(fs.readFileSync(file, 'utf8')));
for (const block of root.getAllSubcomponents('vtimezone')) {
  ICAL.TimezoneService.register(new ICAL.Timezone(block));
}
const until = ICAL.Time.fromDateString(to);
const since = ICAL.Time.fromDateString(from);
const out = [];
for (const component of root.getAllSubcomponents('vevent')) {
  const event = new ICAL.Event(component);
  const iterator = event.iterator();
  for (let next = iterator.next(); next && next.compare(until) < 0; next = iterator.next()) {
    if (next.compare(since) < 0) continue;
    const details = event.getOccurrenceDetails(next);
    const allDay = details.startDate.isDate;
    out.push({
      uid: event.uid,
      summary: event.summary,
      all_day: allDay,
      start: allDay ? details.startDate.toString() : details.startDate.toJSDate().toISOString(),
      end: allDay ? details.endDate.toString() : details.endDate.toJSDate().toISOString(),
    });
  }
}
process.stdout.write(JSON.stringify(out));
