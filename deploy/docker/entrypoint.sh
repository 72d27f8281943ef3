#!/bin/sh
# Selects the role of this container: api | code-server | daemon | webserver | migrate | <any command>.
set -eu
role="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$role" in
  api)         exec uvicorn timetable_platform.api.app:create_app --factory --host 0.0.0.0 --port "${PORT:-8000}" --proxy-headers --no-access-log "$@" ;;
  code-server) exec timetable code-server --host 0.0.0.0 --port "${PORT:-4000}" "$@" ;;
  daemon)      exec dagster-daemon run "$@" ;;
  webserver)   exec dagster-webserver -h 0.0.0.0 -p "${PORT:-3000}" -w /opt/dagster/app/workspace.yaml "$@" ;;
  migrate)     exec timetable migrate "$@" ;;
  *)           exec "$role" "$@" ;;
esac
