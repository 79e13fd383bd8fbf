#!/usr/bin/env bash
# Golden packet fixtures (tests/packet/fixtures.py) through the real kadp
# over DPDK pcap ports: every output header field and checksum is checked.
set -uo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 tests/packet/run_fixtures.py --kadp "${KADP:-${KADP_BUILD:-build}/kadp}"
