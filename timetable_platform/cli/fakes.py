"""``timetable fakes``: the fake Claude and Document AI servers in the foreground, for demos and staging
without keys. They speak the real wire formats (the SDK clients the backends use talk to them as they
talk to Anthropic and Google) and answer from the project's own readers; see ``timetable_platform.fakes``.

Exit codes: 0 stopped by Ctrl-C or SIGTERM, 2 usage error (no server asked for, a port taken).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from timetable_platform.cli.platform import _port


def register(subparsers: argparse._SubParsersAction) -> None:
    fakes = subparsers.add_parser(
        "fakes",
        help="run the fake Claude and/or Document AI servers until Ctrl-C (demos, staging without keys)",
        description="Serve local stand-ins for the Anthropic Messages API and the Document AI v1 REST API "
        "and print the TIMETABLE_* settings that point the backends at them.",
    )
    fakes.add_argument("--claude", type=_port, metavar="PORT", help="port of the fake Claude (Messages API)")
    fakes.add_argument("--documentai", type=_port, metavar="PORT", help="port of the fake Document AI")
    fakes.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    fakes.set_defaults(func=run_fakes)


def run_fakes(args: argparse.Namespace) -> int:
    from timetable_platform.fakes import base_url, http_server
    from timetable_platform.fakes.anthropic_server import FakeAnthropic, read_request
    from timetable_platform.fakes.anthropic_server import request_handler as claude_handler
    from timetable_platform.fakes.documentai_server import FakeDocumentAI
    from timetable_platform.fakes.documentai_server import request_handler as documentai_handler

    if args.claude is None and args.documentai is None:
        print("timetable: give --claude PORT and/or --documentai PORT", file=sys.stderr)
        return 2
    if args.claude is not None and args.claude == args.documentai:
        print("timetable: --claude and --documentai must differ", file=sys.stderr)
        return 2
    servers: list[tuple[str, ThreadingHTTPServer]] = []
    settings: list[str] = []
    try:
        if args.claude is not None:
            server = http_server(claude_handler(FakeAnthropic(reader=read_request)), args.host, args.claude)
            servers.append(("fake Claude       ", server))
            settings += [
                "TIMETABLE_INTERPRETER_BACKEND=claude",
                f"TIMETABLE_ANTHROPIC_BASE_URL={base_url(server)}",
                "TIMETABLE_ANTHROPIC_API_KEY=fake-key",
            ]
        if args.documentai is not None:
            fake = FakeDocumentAI(read_images=True)
            server = http_server(documentai_handler(fake), args.host, args.documentai)
            servers.append(("fake Document AI  ", server))
            settings += [
                "TIMETABLE_LAYOUT_BACKEND=documentai",
                f"TIMETABLE_DOCUMENTAI_ENDPOINT={base_url(server)}",
                "TIMETABLE_DOCUMENTAI_PROJECT=fake-project",
                "TIMETABLE_DOCUMENTAI_PROCESSOR_ID=fake-processor",
            ]
    except OSError as exc:  # the port is taken (or the host is not ours)
        for _, server in servers:
            server.server_close()
        print(f"timetable: cannot listen: {exc.strerror or exc}; pick another port", file=sys.stderr)
        return 2

    for name, server in servers:
        threading.Thread(target=server.serve_forever, name=name.strip(), daemon=True).start()
        print(f"{name}{base_url(server)}")
    print("\npoint the backends at them (environment or .env; restart the code server after a change):")
    print("\n".join(f"  {line}" for line in settings))
    print(
        "(any API key will do: the fake Claude only checks that one is sent; an http:// Document AI endpoint "
        "is called without Google credentials)"
    )
    print("\nrunning; Ctrl-C stops them", flush=True)

    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for _, server in servers:
            server.shutdown()
            server.server_close()
    print("stopped", flush=True)
    return 0
