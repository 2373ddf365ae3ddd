#!/bin/sh
# Quick start: install what is missing, build livegate and the dashboard (web/dist),
# and run livegate on conf/livegate.yaml with the dashboard at http://127.0.0.1:8080/.
#
# Usage: scripts/run.sh [livegate options]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh"
echo "run: building the dashboard (web/dist)"
(cd "$top/web" && npm run --silent build)
echo "run: dashboard at http://${LIVEGATE_LISTEN:-127.0.0.1:8080}/ (stop with Ctrl-C)"
exec "$top/build/livegate" -c "$top/conf/livegate.yaml" --plugin-dir "$top/build/modules" "$@"
