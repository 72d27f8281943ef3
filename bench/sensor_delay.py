"""The queue sensor's delay: message sent -> run created, with ``dagster-daemon`` alone (no API, no extraction wait).

Sends ``N`` queue messages at random moments (2-7 s apart, so at every phase of Dagster's 5 s sensor loop) for
uploads of ../shared/corpus/real/ly_2.pdf, waits for each run to be created, and prints the median and max delay
and the ``upload_queue_sensor`` tick durations and intervals. Prints only (figures go into bench/README.md by hand).

    .venv/bin/python bench/sensor_delay.py 10
"""

from __future__ import annotations

import itertools
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_latency import ROOT, running_stack  # sibling benchmark module, not a package


def main(count: int) -> None:
    from dagster._core.storage.dagster_run import RunsFilter

    from timetable_platform.assets.partitions import UPLOAD_ID_TAG
    from timetable_platform.store.queue import upload_message

    work = Path(tempfile.mkdtemp(prefix="tt-sensor-"))
    document = (ROOT.parent / "shared" / "corpus" / "real" / "ly_2.pdf").read_bytes()
    with running_stack(work, mode="document_ai") as stack:
        instance = stack.instance()
        stack.start_daemon()
        store = stack.store()
        time.sleep(8)
        delays: list[float] = []
        for _ in range(count):
            time.sleep(random.uniform(2.0, 7.0))
            upload_id = stack.register(document, "ly_2.pdf", mode="document_ai")
            sent = time.time()
            store.queue.send(upload_message(upload_id, "bench"))
            while not (records := instance.get_run_records(RunsFilter(tags={UPLOAD_ID_TAG: upload_id}), limit=1)):
                time.sleep(0.05)
            delays.append(records[0].create_timestamp.timestamp() - sent)
        state = next(s for s in instance.all_instigator_state() if s.name == "upload_queue_sensor")
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=200)
        durations = [t.tick_data.end_timestamp - t.timestamp for t in ticks if t.tick_data.end_timestamp]
        starts = sorted(t.timestamp for t in ticks)
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        print(f"delay median {statistics.median(delays):.2f} s, max {max(delays):.2f} s")
        print(f"tick duration median {statistics.median(durations):.2f} s, max {max(durations):.2f} s; "
              f"interval median {statistics.median(gaps):.2f} s, max {max(gaps):.2f} s")  # fmt: skip
        instance.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
