#!/usr/bin/env bash
# The main command: installs what kadp needs, builds it, and runs it on the
# bundled example configuration. Until the data plane lands this validates the
# file like `keepalived -t` and prints the resolved model as JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
conf=${1:-examples/keepalived.conf}
echo "== kadp -t -f $conf"
./build/kadp -t -f "$conf" && echo "configuration OK"
echo "== kadp --dump-config -f $conf"
./build/kadp --dump-config -f "$conf"
