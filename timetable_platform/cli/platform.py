"""``timetable up`` / ``timetable down``: the whole platform on one machine; ``timetable backfill``.

``up`` migrates the database, creates an API key for the ``demo`` tenant, starts the Dagster code
server, the API (uvicorn), the Dagster webserver and the daemon (sensors, schedules, run queue), each
in its own process group with its log under ``DATA_DIR/logs/``, waits until each is healthy, submits
the example documents through the API and stays in the foreground. Ctrl-C, SIGTERM or
``timetable down`` (through ``DATA_DIR/platform.pid``) stops every process it started.

Exit codes: 0 stopped cleanly, 1 a process failed to start or died, 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx

from timetable_platform.settings import Settings

DEMO_TENANT = "demo"
DEMO_KEY_FILE = "demo-api-key"  # under the data directory, readable by its owner only
DEMO_KEY_LABEL = "timetable up"
LOCATION_NAME = "timetable_platform"
DEFINITIONS_MODULE = "timetable_platform.definitions"
JOB_NAME = "process_upload"
STOP_GRACE_SECONDS = 10.0
START_TIMEOUT_SECONDS = 180.0  # code loading takes ~30 s on a busy 2-core machine
EXAMPLE_SUFFIXES = (".pdf", ".docx", ".xlsx", ".csv", ".png", ".jpg", ".jpeg")
REPO_ROOT = Path(__file__).resolve().parents[2]  # an editable install or a checkout


class PlatformError(Exception):
    """Start-up failed; the message says what to do."""


class ConfigurationError(PlatformError):
    """The configuration is missing or contradictory (exit code 2); the message says where to set it."""


class _Stop(Exception):
    """Raised by the SIGINT/SIGTERM handler to leave the foreground loop."""


@dataclass
class Service:
    name: str
    argv: list[str]
    log_path: Path
    healthy: Callable[[], bool]
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


# --- registration -----------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    up = subparsers.add_parser(
        "up",
        help="run the whole platform (API, Dagster UI, daemon, code server) until Ctrl-C",
        description="Migrate, create a demo API key, start every process, submit the examples, wait for Ctrl-C.",
    )
    up.add_argument("--api-port", type=_port, default=8000, help="API port (default: 8000)")
    up.add_argument("--ui-port", type=_port, default=3000, help="Dagster UI port (default: 3000)")
    up.add_argument(
        "--host", default="127.0.0.1", help="interface the API and UI listen on (default: 127.0.0.1)"
    )
    up.add_argument("--no-examples", action="store_true", help="do not submit the example documents")
    up.add_argument(
        "--examples", type=Path, default=None, help="folder of example documents (default: ./examples)"
    )
    up.add_argument(
        "--dagster-config",
        type=Path,
        default=None,
        metavar="PATH",
        help="Dagster instance config copied into DATA_DIR/dagster_home instead of ./dagster.yaml "
        "(e.g. deploy/dagster-postgres.yaml); an exported DAGSTER_HOME is used as it is",
    )
    up.add_argument(
        "--start-timeout",
        type=float,
        default=START_TIMEOUT_SECONDS,
        help=f"seconds each process may take to become healthy (default: {START_TIMEOUT_SECONDS:.0f})",
    )
    up.set_defaults(func=run_up)

    down = subparsers.add_parser("down", help="stop a platform started by `timetable up`")
    down.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait before killing (default: 30)"
    )
    down.set_defaults(func=run_down)

    code_server = subparsers.add_parser(
        "code-server",
        help="run the Dagster code server (the definitions) in the foreground; refuses a taken port",
        description="`dagster code-server start -m timetable_platform.definitions` for a supervisor (systemd, "
        "ECS, Kubernetes): checks first that nothing listens on the port (gRPC would share it silently), "
        "restores default SIGTERM/SIGINT handling, then replaces itself with the code server.",
    )
    code_server.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1)")
    code_server.add_argument("--port", type=_port, default=4000, help="gRPC port (default: 4000)")
    code_server.add_argument(
        "--location-name", default=LOCATION_NAME, help=f"code location name (default: {LOCATION_NAME})"
    )
    code_server.set_defaults(func=run_code_server)

    backfill = subparsers.add_parser(
        "backfill",
        help="re-materialise stale and/or failed uploads now (ranged Dagster runs)",
        description="Ask Dagster (through its webserver) to re-run uploads extracted by an older extractor "
        "version (--stale) and/or failed ones (--failed); both when neither is given.",
    )
    backfill.add_argument("--stale", action="store_true", help="uploads of an older EXTRACTOR_VERSION")
    backfill.add_argument("--failed", action="store_true", help="failed uploads (fewer than 3 attempts)")
    backfill.add_argument("--limit", type=int, default=5000, help="most uploads to re-run (default: 5000)")
    backfill.add_argument(
        "--dagster-url",
        default=None,
        help="Dagster webserver (default: TIMETABLE_DAGSTER_UI_URL, else http://127.0.0.1:3000)",
    )
    backfill.add_argument("--dry-run", action="store_true", help="list the uploads, request nothing")
    backfill.set_defaults(func=run_backfill)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {port}")
    return port


def _fail(message: str, code: int = 1) -> int:
    print(f"timetable: {message}", file=sys.stderr)
    return code


# --- paths and files --------------------------------------------------------------------------


def pid_file(settings: Settings) -> Path:
    return settings.data_dir.resolve() / "platform.pid"


def dagster_home(settings: Settings) -> Path:
    return settings.data_dir.resolve() / "dagster_home"


def _instance_config() -> Path:
    for candidate in (Path.cwd() / "dagster.yaml", REPO_ROOT / "dagster.yaml"):
        if candidate.is_file():
            return candidate
    raise PlatformError("dagster.yaml not found in the current directory or the project checkout")


@dataclass(frozen=True)
class PreparedInstance:
    """The Dagster instance ``up`` runs on: its ``DAGSTER_HOME`` and the workspace naming the code server."""

    home: Path
    workspace: Path
    source: str  # where the instance configuration came from, for the startup output


def prepare_dagster_home(
    settings: Settings,
    code_server_port: int,
    *,
    config: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> PreparedInstance:
    """Choose the Dagster instance: ``--dagster-config`` copied into ``data/dagster_home``; else an
    exported ``DAGSTER_HOME`` as it is (never written to); else the repo's ``dagster.yaml`` copied there.

    The workspace naming the shared code server goes under the data directory either way, so an
    operator's ``DAGSTER_HOME`` stays untouched. Raises ``ConfigurationError`` for a wrong choice.
    """
    environ = os.environ if environ is None else environ
    exported = environ.get("DAGSTER_HOME", "").strip()
    if config is not None and exported:
        raise ConfigurationError(
            f"DAGSTER_HOME is exported ({exported}) and --dagster-config was given: use one of them "
            "(unset DAGSTER_HOME in the environment or .env, or drop --dagster-config)"
        )
    if exported:
        home = Path(exported).expanduser().resolve()
        if not home.is_dir():
            raise ConfigurationError(
                f"DAGSTER_HOME={exported} is not a directory: create it (with its dagster.yaml) "
                "or unset DAGSTER_HOME in the environment or .env"
            )
        source = "exported DAGSTER_HOME"
    else:
        if config is not None and not config.is_file():
            raise ConfigurationError(f"--dagster-config {config}: no such file")
        chosen = config if config is not None else _instance_config()
        home = dagster_home(settings)
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chosen, home / "dagster.yaml")
        source = f"{chosen} copied"
    describe_dagster_storage(home, environ)  # fails now, not in four processes, on a missing DAGSTER_PG_*
    # One code server loads the definitions once; webserver, daemon and runs all use it.
    workspace = settings.data_dir.resolve() / "workspace.yaml"
    workspace.parent.mkdir(parents=True, exist_ok=True)
    workspace.write_text(
        "load_from:\n"
        "  - grpc_server:\n"
        "      host: 127.0.0.1\n"
        f"      port: {code_server_port}\n"
        f"      location_name: {LOCATION_NAME}\n"
    )
    return PreparedInstance(home, workspace, source)


def _config_value(value: Any, environ: Mapping[str, str], missing: list[str]) -> str:
    """A dagster.yaml scalar: literal, or ``{env: NAME}`` read from the environment."""
    if isinstance(value, dict) and "env" in value:
        name = str(value["env"])
        if name not in environ:  # set but empty is the operator's choice (a password under trust auth)
            missing.append(name)
            return f"${name}"
        return environ[name]
    return "" if value is None else str(value)


def describe_dagster_storage(home: Path, environ: Mapping[str, str] | None = None) -> str:
    """Where the instance at ``home`` keeps runs and events: ``sqlite (DIR)`` or ``postgres USER@HOST:PORT/DB``.

    Raises ``ConfigurationError`` when its dagster.yaml reads a variable that is not set."""
    import yaml

    environ = os.environ if environ is None else environ
    path = home / "dagster.yaml"
    try:
        config = (yaml.safe_load(path.read_text()) if path.is_file() else None) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path} cannot be read: {exc}") from None
    storage = config.get("storage") or {}
    legacy = config.get("run_storage") or {}
    kind = next(iter(storage), None) if isinstance(storage, dict) else None
    if kind is None and isinstance(legacy, dict) and "postgres" in str(legacy.get("module", "")):
        kind, storage = "postgres", {"postgres": legacy.get("config") or {}}
    missing: list[str] = []
    if kind in ("postgres", "mysql"):
        options = storage[kind] or {}
        if options.get(f"{kind}_url"):
            url = _config_value(options[f"{kind}_url"], environ, missing)
            where = _mask_url(url) if not missing else url
        else:
            db = options.get(f"{kind}_db") or {}
            user, host, port, name = (
                _config_value(db.get(key), environ, missing)
                for key in ("username", "hostname", "port", "db_name")
            )
            _config_value(db.get("password"), environ, missing)
            where = f"{user}@{host}:{port or ('5432' if kind == 'postgres' else '3306')}/{name}"
        if missing:
            raise ConfigurationError(
                f"{path} reads {', '.join(dict.fromkeys(missing))} from the environment and "
                f"{'it is' if len(set(missing)) == 1 else 'they are'} not set: export or put them in .env"
            )
        return f"{kind} {where}"
    base = home / "storage"
    if kind == "sqlite":
        base = Path(_config_value((storage["sqlite"] or {}).get("base_dir"), environ, missing) or base)
    return f"sqlite ({base})"


def _mask_url(url: str) -> str:
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def configuration_summary(
    settings: Settings, instance: PreparedInstance, environ: Mapping[str, str] | None = None
) -> list[str]:
    """What ``up`` runs on, one line per store: Dagster instance, database (password masked), blobs, queue."""
    storage = describe_dagster_storage(instance.home, environ)
    if settings.blob_backend == "s3":
        blobs = f"s3://{settings.s3_bucket}/{settings.s3_prefix}"
        if settings.s3_endpoint_url:
            blobs += f" (endpoint {settings.s3_endpoint_url})"
    else:
        blobs = f"local {settings.resolved_blob_dir.resolve()}"
    if settings.queue_backend == "sqs":
        queue = f"sqs {settings.sqs_queue_url}"
        if settings.sqs_endpoint_url:
            queue += f" (endpoint {settings.sqs_endpoint_url})"
    else:
        queue = "database (table queue_messages)"
    return [
        f"  Dagster       DAGSTER_HOME={instance.home} ({instance.source}); storage: {storage}",
        f"  database      {_mask_url(settings.resolved_database_url)}",
        f"  blob store    {blobs}",
        f"  queue         {queue}",
    ]


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` runs. A zombie (exited, not yet reaped by its parent) counts as stopped:
    ``down`` must not wait out its timeout, then SIGKILL, a process that already ended."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS) or it just vanished: os.kill said it exists
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def read_pid_file(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


# --- child processes --------------------------------------------------------------------------


def _child_preexec() -> None:
    # Children may inherit SIGINT/SIGTERM as ignored (sandboxes, nohup): make them stoppable.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_service(service: Service, env: dict[str, str]) -> None:
    service.log_path.parent.mkdir(parents=True, exist_ok=True)
    service.log_file = service.log_path.open("ab")
    service.log_file.write(f"\n=== {datetime.now(UTC).isoformat()} {' '.join(service.argv)}\n".encode())
    service.log_file.flush()
    service.process = subprocess.Popen(
        service.argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=service.log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole, spared the terminal's Ctrl-C
        preexec_fn=_child_preexec,
    )


def kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def stop_services(services: Sequence[Service], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM every group (last started first), wait up to ``grace``, then SIGKILL whatever is left."""
    started = [s for s in services if s.process is not None]
    for service in reversed(started):
        assert service.process is not None
        kill_group(service.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for service in started:
        assert service.process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for service in started:
        assert service.process is not None
        # Also reaps grandchildren (run workers, code server subprocesses) left in the group.
        kill_group(service.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            service.process.wait(timeout=5)
        if service.log_file is not None:
            service.log_file.close()


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_healthy(service: Service, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive:
            raise PlatformError(
                f"{service.name} exited during start-up (log {service.log_path}):\n{log_tail(service.log_path)}"
            )
        with contextlib.suppress(Exception):
            if service.healthy():
                return
        time.sleep(0.5)
    raise PlatformError(
        f"{service.name} not healthy after {timeout:.0f} s (log {service.log_path}):\n{log_tail(service.log_path)}"
    )


# --- health checks ----------------------------------------------------------------------------


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        return httpx.get(url, timeout=3.0).status_code == 200

    return check


def code_server_loaded(port: int) -> Callable[[], bool]:
    def check() -> bool:
        from dagster._grpc.client import DagsterGrpcClient

        client = DagsterGrpcClient(port=port, host="127.0.0.1")
        client.ping("up")
        # The server answers pings while it still loads the code; repositories only once loaded.
        return "error" not in client.list_repositories().lower()

    return check


def daemon_heartbeating(home: Path, since: float) -> Callable[[], bool]:
    def check() -> bool:
        import dagster as dg

        with dg.DagsterInstance.from_config(str(home)) as instance:
            beats = instance.get_daemon_heartbeats()
        sensor = beats.get("SENSOR")
        return sensor is not None and sensor.timestamp >= since

    return check


# --- API client -------------------------------------------------------------------------------


def submit_examples(api: str, key: str, paths: Sequence[Path]) -> list[tuple[Path, str]]:
    submitted = []
    with httpx.Client(base_url=api, headers={"X-API-Key": key}, timeout=60.0) as client:
        for path in paths:
            response = client.post(
                "/api/v2/timetable/uploads", files={"file": (path.name, path.read_bytes())}
            )
            if response.status_code not in (200, 202):
                print(f"  {path.name}: not submitted: {response.status_code} {response.text[:200]}")
                continue
            submitted.append((path, response.json()["upload_id"]))
    return submitted


def wait_for_uploads(
    api: str, key: str, upload_ids: Sequence[str], timeout: float
) -> dict[str, dict[str, Any]]:
    """Poll each upload until it is final (succeeded, needs_review or failed; or ``timeout``); returns the
    last status bodies."""
    last: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=api, headers={"X-API-Key": key}, timeout=30.0) as client:
        pending = list(upload_ids)
        while pending and time.monotonic() < deadline:
            for upload_id in list(pending):
                response = client.get(f"/api/v2/timetable/uploads/{upload_id}")
                if response.status_code == 200:
                    last[upload_id] = response.json()
                    if last[upload_id]["status"] in ("succeeded", "needs_review", "failed"):
                        pending.remove(upload_id)
            if pending:
                time.sleep(1.0)
    return last


def find_examples(folder: Path | None) -> list[Path]:
    candidates = [folder] if folder is not None else [Path.cwd() / "examples", REPO_ROOT / "examples"]
    for directory in candidates:
        if directory.is_dir():
            return sorted(p for p in directory.iterdir() if p.suffix.lower() in EXAMPLE_SUFFIXES)
    return []


# --- up ---------------------------------------------------------------------------------------


def _bin(name: str) -> str:
    """A console script of this environment (the venv's, not whatever PATH finds first)."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


def build_services(
    settings: Settings,
    *,
    host: str,
    api_port: int,
    ui_port: int,
    code_port: int,
    workspace: Path,
    home: Path,
    since: float,
) -> list[Service]:
    logs = settings.data_dir.resolve() / "logs"
    return [
        Service(
            "code server",
            code_server_argv("127.0.0.1", code_port, LOCATION_NAME),
            logs / "code-server.log", code_server_loaded(code_port),
        ),
        Service(
            "API",
            [_bin("uvicorn"), "--factory", "timetable_platform.api:create_app", "--host", host,
             "--port", str(api_port), "--no-access-log"],
            logs / "api.log", http_ok(f"http://{_connect_host(host)}:{api_port}/ready"),
        ),
        Service(
            "Dagster webserver",
            [_bin("dagster-webserver"), "-h", host, "-p", str(ui_port), "-w", str(workspace)],
            logs / "dagster-webserver.log", http_ok(f"http://{_connect_host(host)}:{ui_port}/server_info"),
        ),
        Service(
            "Dagster daemon",
            [_bin("dagster-daemon"), "run", "-w", str(workspace)],
            logs / "dagster-daemon.log", daemon_heartbeating(home, since),
        ),
    ]  # fmt: skip


def _connect_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def demo_key_file(settings: Settings) -> Path:
    return settings.data_dir / DEMO_KEY_FILE


def demo_key(settings: Settings) -> str:
    """The demo tenant's one API key: the one kept in ``data/demo-api-key`` while it still works;
    otherwise a new one, written there, with every earlier ``timetable up`` key revoked."""
    from sqlalchemy import select

    from timetable_platform.store import apikeys
    from timetable_platform.store.api_models import ApiKey
    from timetable_platform.store.factory import build_store

    path = demo_key_file(settings)
    kept = path.read_text().strip() if path.is_file() else ""
    store = build_store(settings, migrate=True)
    try:
        with store.session_factory.begin() as session:
            if kept:
                principal = apikeys.authenticate(session, kept)
                if principal is not None and principal.tenant == DEMO_TENANT:
                    return kept
            earlier = session.scalars(
                select(ApiKey).where(
                    ApiKey.tenant == DEMO_TENANT, ApiKey.label == DEMO_KEY_LABEL, ApiKey.revoked_at.is_(None)
                )
            ).all()
            for row in earlier:
                apikeys.revoke_api_key(session, row.id)
            key = apikeys.create_api_key(session, DEMO_TENANT, label=DEMO_KEY_LABEL).key
            # Written before the commit: a key the file does not hold would be one more left behind.
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_name(path.name + ".part")
            part.write_text(key + "\n")
            part.chmod(0o600)
            part.replace(path)
            return key
    finally:
        store.dispose()


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def run_up(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from timetable_platform.store import db
    from timetable_platform.store.errors import StoreError

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress shows at once through `tee` or a log file
    settings = Settings()
    pids = pid_file(settings)
    running = read_pid_file(pids)
    if running and _pid_alive(running["pid"]):
        return _fail(f"already running (pid {running['pid']}); stop it with `timetable down`", 2)
    for name, port in (("--api-port", args.api_port), ("--ui-port", args.ui_port)):
        if _port_taken(args.host, port):
            return _fail(f"port {port} is in use; pick another with {name}", 2)
    if args.api_port == args.ui_port:
        return _fail("--api-port and --ui-port must differ", 2)

    api_url = f"http://{_connect_host(args.host)}:{args.api_port}"
    ui_url = f"http://{_connect_host(args.host)}:{args.ui_port}"
    code_port = free_port()
    try:
        instance = prepare_dagster_home(settings, code_port, config=args.dagster_config)
        summary = configuration_summary(settings, instance)
    except ConfigurationError as exc:
        return _fail(str(exc), 2)
    except (PlatformError, OSError) as exc:
        return _fail(str(exc))
    print("configuration:\n" + "\n".join(summary))

    url = settings.resolved_database_url
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db.migrate(url)
        key = demo_key(settings)
    except (SQLAlchemyError, StoreError, OSError) as exc:
        return _fail(f"database not ready: {exc}")
    print(f"database migrated ({db.current_revision(url)})")
    print(f"API key for tenant {DEMO_TENANT!r} (kept in {demo_key_file(settings)}): {key}")

    env = dict(os.environ)
    env.update({
        "DAGSTER_HOME": str(instance.home),
        "TIMETABLE_DATA_DIR": str(settings.data_dir.resolve()),
        "PYTHONUNBUFFERED": "1",
    })  # fmt: skip
    env.setdefault("TIMETABLE_DAGSTER_UI_URL", ui_url)
    services = build_services(
        settings, host=args.host, api_port=args.api_port, ui_port=args.ui_port, code_port=code_port,
        workspace=instance.workspace, home=instance.home, since=time.time(),
    )  # fmt: skip
    handlers = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        code_server, api, webserver, daemon = services
        # The code server and the API load in parallel; webserver and daemon need the loaded code.
        for service in (code_server, api):
            start_service(service, env)
        _write_pid_file(pids, services)
        for service in (code_server, api):
            wait_healthy(service, args.start_timeout)
            print(f"{service.name} ready (log {service.log_path})")
        for service in (webserver, daemon):
            start_service(service, env)
        _write_pid_file(pids, services)
        for service in (webserver, daemon):
            wait_healthy(service, args.start_timeout)
            print(f"{service.name} ready (log {service.log_path})")

        _print_where(api_url, ui_url)
        if not args.no_examples:
            _submit_and_report(api_url, ui_url, key, find_examples(args.examples))
        print("running; Ctrl-C or `timetable down` stops everything", flush=True)
        while True:
            for service in services:
                if not service.alive:
                    raise PlatformError(
                        f"{service.name} exited unexpectedly (log {service.log_path}):\n{log_tail(service.log_path)}"
                    )
            time.sleep(1.0)
    except _Stop as stop:
        print(f"\n{stop}: stopping", flush=True)
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    except PlatformError as exc:
        print(f"timetable: {exc}", file=sys.stderr)
        code = 1
    finally:
        # A second Ctrl-C while stopping must not leave orphans behind.
        for sig in handlers:
            signal.signal(sig, signal.SIG_IGN)
        stop_services(services)
        with contextlib.suppress(FileNotFoundError):
            pids.unlink()
        for sig, previous in handlers.items():
            signal.signal(sig, previous)
        print("stopped", flush=True)
    return code


def _write_pid_file(path: Path, services: Sequence[Service]) -> None:
    children = {s.name: s.process.pid for s in services if s.process is not None}
    path.write_text(json.dumps({"pid": os.getpid(), "children": children}))


def _print_where(api_url: str, ui_url: str) -> None:
    print(
        f"\n  API           {api_url}  (docs {api_url}/docs, metrics {api_url}/metrics)\n"
        f"  Dagster UI    {ui_url}  (runs {ui_url}/runs, assets {ui_url}/assets)\n",
        flush=True,
    )


def _submit_and_report(api_url: str, ui_url: str, key: str, examples: Sequence[Path]) -> None:
    if not examples:
        print("no example documents found (./examples); submit your own with the API key above")
        return
    submitted = submit_examples(api_url, key, examples)
    print(f"submitted {len(submitted)} example documents; waiting for the pipeline ...", flush=True)
    results = wait_for_uploads(api_url, key, [u for _, u in submitted], timeout=300.0)
    for path, upload_id in submitted:
        body = results.get(upload_id, {})
        status = body.get("status", "unknown")
        entries = (body.get("confidence") or {}).get("entries")
        if status in ("succeeded", "needs_review"):
            reasons = body.get("review_reasons") or []
            detail = f"{entries} entries" + (f"; to check: {reasons[0]}" if reasons else "")
        else:
            detail = body.get("error") or "still in progress"
        base = f"{api_url}/api/v2/timetable/uploads/{upload_id}"
        print(f"  {path.name:<24} {status:<10} {detail}")
        print(f"    status     {base}")
        print(f"    timetable  {base}/timetable?format=json  (or csv, csv-excel, ics, fullcalendar)")
        view = share_view_link(api_url, key, upload_id)
        print(f"    week view  {view or base + '/view'}")
        if body.get("dagster_run_id"):
            print(f"    Dagster    {ui_url}/runs/{body['dagster_run_id']}")
    print(f"  API URLs need the header  X-API-Key: {key}  (the week view links above do not)", flush=True)


def share_view_link(api_url: str, key: str, upload_id: str) -> str | None:
    """A week view link that opens in a browser without a key (the API's share link)."""
    try:
        response = httpx.post(
            f"{api_url}/api/v2/timetable/uploads/{upload_id}/share", headers={"X-API-Key": key}, timeout=30.0
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 201:
        return None
    url = str(response.json()["url"])
    return url if url.startswith("http") else api_url + url


# --- code server ------------------------------------------------------------------------------


def port_in_use(host: str, port: int) -> bool:
    """True when a socket holds ``host:port``. The probe sets neither SO_REUSEPORT nor SO_REUSEADDR, so
    it also fails against a gRPC server (which binds with SO_REUSEPORT and would let a second server
    share the port, each taking part of the connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def code_server_argv(host: str, port: int, location_name: str) -> list[str]:
    return [_bin("dagster"), "code-server", "start", "-h", host, "-p", str(port),
            "-m", DEFINITIONS_MODULE, "--location-name", location_name]  # fmt: skip


def run_code_server(args: argparse.Namespace) -> int:
    if port_in_use(args.host, args.port):
        return _fail(
            f"port {args.port} on {args.host} is in use (another code server?); stop it or pick another with --port",
            2,
        )
    argv = code_server_argv(args.host, args.port, args.location_name)
    sys.stdout.flush()
    # A supervisor's SIGTERM must stop it even when started from a shell that ignores signals for its
    # background jobs; exec keeps the pid, so the supervisor signals the code server itself.
    _child_preexec()
    os.execvp(argv[0], argv)
    return 0  # not reached


# --- down -------------------------------------------------------------------------------------


def run_down(args: argparse.Namespace) -> int:
    settings = Settings()
    path = pid_file(settings)
    data = read_pid_file(path)
    if data is None:
        print("not running (no pid file)")
        return 0
    pid = data["pid"]
    children = [int(p) for p in (data.get("children") or {}).values()]
    if _pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.3)
    if _pid_alive(pid):
        print(f"pid {pid} did not stop within {args.timeout:.0f} s; killing", file=sys.stderr)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for child in children:  # whatever the foreground process could not stop
        kill_group(child, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    print("stopped")
    return 0


# --- backfill ---------------------------------------------------------------------------------


def select_backfill_uploads(settings: Settings, *, stale: bool, failed: bool, limit: int) -> list[str]:
    from timetable_platform.assets.partitions import EXTRACTOR_VERSION
    from timetable_platform.schedules.backfill import MAX_ATTEMPTS
    from timetable_platform.store import repository
    from timetable_platform.store.factory import build_store
    from timetable_platform.store.models import READY_STATUSES, UploadStatus

    store = build_store(settings, migrate=True)
    try:
        with store.session_factory() as session:
            uploads = repository.stale_or_failed_uploads(
                session, extractor_version=EXTRACTOR_VERSION, limit=limit, max_attempts=MAX_ATTEMPTS
            )
            return [
                u.id for u in uploads
                if (failed and u.status == UploadStatus.FAILED) or (stale and u.status in READY_STATUSES)
            ]  # fmt: skip
    finally:
        store.dispose()


def run_backfill(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from timetable_platform.store.errors import StoreError

    settings = Settings()
    if args.limit < 1:
        return _fail("--limit must be at least 1", 2)
    stale, failed = (args.stale, args.failed) if (args.stale or args.failed) else (True, True)
    try:
        upload_ids = select_backfill_uploads(settings, stale=stale, failed=failed, limit=args.limit)
    except (SQLAlchemyError, StoreError) as exc:
        return _fail(f"store unavailable: {exc}")
    if not upload_ids:
        print("nothing to backfill")
        return 0
    if args.dry_run:
        print("\n".join(upload_ids))
        return 0
    dagster_url = httpx.URL(args.dagster_url or settings.dagster_ui_url or "http://127.0.0.1:3000")
    try:
        httpx.get(dagster_url.join("/server_info"), timeout=5.0).raise_for_status()
    except httpx.HTTPError as exc:
        return _fail(
            f"Dagster webserver not reachable at {dagster_url} ({exc}); start it with `timetable up`"
        )
    try:
        home = backfill_dagster_home(settings)
    except ConfigurationError as exc:
        return _fail(str(exc), 2)
    os.environ["DAGSTER_HOME"] = str(home)
    from dagster_graphql import DagsterGraphQLClientError

    try:
        run_ids = request_backfill_runs(upload_ids, dagster_url, reason=_reason(stale, failed))
    except DagsterGraphQLClientError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _fail(f"the Dagster webserver at {dagster_url} did not launch the runs: {first}")
    print(f"requested {len(run_ids)} runs for {len(upload_ids)} uploads: {dagster_url.join('/runs')}")
    return 0


def backfill_dagster_home(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """The instance the webserver runs on: an exported ``DAGSTER_HOME``, else ``timetable up``'s
    ``data/dagster_home``. Raises ``ConfigurationError`` (one line) when it is not there or its
    dagster.yaml reads a variable that is not set."""
    environ = os.environ if environ is None else environ
    exported = environ.get("DAGSTER_HOME", "").strip()
    home = Path(exported).expanduser() if exported else dagster_home(settings)
    if not home.is_dir():
        where = f"DAGSTER_HOME={exported}" if exported else f"DAGSTER_HOME is not set and {home}"
        raise ConfigurationError(
            f"{where} is not a directory: set DAGSTER_HOME in the environment or .env to the Dagster "
            "instance's directory (the one its webserver and daemon use)"
        )
    describe_dagster_storage(home, environ)
    return home.resolve()


def _reason(stale: bool, failed: bool) -> str:
    return "stale_or_failed" if stale and failed else ("stale" if stale else "failed")


def request_backfill_runs(upload_ids: Sequence[str], dagster_url: httpx.URL, *, reason: str) -> list[str]:
    """Ranged runs as the nightly schedule makes them (its ``backfill_run_requests``), launched via GraphQL."""
    import dagster as dg
    from dagster._core.storage.tags import PARTITION_NAME_TAG
    from dagster_graphql import DagsterGraphQLClient

    from timetable_platform.sensors.backfill_requests import backfill_run_requests

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    with dg.DagsterInstance.get() as instance:
        requests = backfill_run_requests(instance, upload_ids, reason=reason, run_key_prefix=f"cli-{stamp}")
    client = DagsterGraphQLClient(
        dagster_url.host or "127.0.0.1", port_number=dagster_url.port, use_https=dagster_url.scheme == "https"
    )
    run_ids = []
    for request in requests:
        tags = dict(request.tags)
        if request.partition_key:
            tags[PARTITION_NAME_TAG] = request.partition_key
        run_ids.append(
            client.submit_job_execution(JOB_NAME, repository_location_name=LOCATION_NAME, tags=tags)
        )
    return run_ids
