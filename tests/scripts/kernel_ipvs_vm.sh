#!/usr/bin/env bash
# The kernel backend against a real Linux IPVS: boots Debian's cloud kernel
# under qemu (TCG; KVM hangs on Debian kernels here) with a busybox
# initramfs holding kadp, kadpctl, ipvsadm and iproute2
# (tests/vm/build_initramfs.sh), whose /init (tests/vm/init.sh) applies
# configs, compares `ipvsadm -Ln` with the expected listings and kadpctl's
# output with ipvsadm's, reloads (SIGHUP and kadpctl), passes traffic
# through IPVS to real servers in namespaces, runs TCP_CHECK against
# listeners it stops and restarts, and stops kadp. This script
# reads the console, and checks the JSON of `kadpctl --json list` the VM
# prints against the ipvsadm -Ln printed with it (python3: the VM has no
# JSON parser).
# Exit 0 = every check passed, 1 = a check failed or the VM did not finish,
# 77 = qemu or the kernel is not installed (scripts/install-deps.sh test).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kadp=${KADP:-${KADP_BUILD:-$top/build}/kadp}
kadpctl=${KADPCTL:-${KADP_BUILD:-$top/build}/kadpctl}
unit=${UNIT_KERNEL_IPVS:-${KADP_BUILD:-$top/build}/tests/unit/unit_kernel_ipvs}
. "$top/tests/vm/vm_lib.sh"

skip() { echo "SKIP: kernel_ipvs_vm: $*"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
[ -x /bin/busybox ] || skip "busybox-static not installed"
command -v ipvsadm >/dev/null || skip "ipvsadm not installed"
vm_find_kernel || skip "$vm_missing"
[ -x "$kadp" ] || { echo "FAIL: kernel_ipvs_vm: no kadp binary at $kadp (build first)"; exit 1; }
[ -x "$kadpctl" ] || { echo "FAIL: kernel_ipvs_vm: no kadpctl binary at $kadpctl (build first)"; exit 1; }
[ -x "$unit" ] || { echo "FAIL: kernel_ipvs_vm: no $unit (build first)"; exit 1; }

work=$(mktemp -d /tmp/kadp-ipvs-vm.XXXXXX)
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if ! timeout 120 "$top/tests/vm/build_initramfs.sh" "$kver" "$kadp" "$work/initrd.gz" "$unit" "$kadpctl" >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  echo "FAIL: kernel_ipvs_vm: cannot build the initramfs"
  exit 1
fi

vm_run "$work/initrd.gz" "$work/console.log"
qemu_rc=$?
# KADP_VM_CONSOLE=FILE keeps the whole console for debugging.
[ -n "${KADP_VM_CONSOLE:-}" ] && cp "$work/console.log" "$KADP_VM_CONSOLE"

tr -d '\r' <"$work/console.log" >"$work/console.txt"

# `kadpctl --json list` (KADP-JSON:) must parse and carry the services and
# real servers of the `ipvsadm -Ln` taken with it (KADP-IPVSADM:).
json_check() {
  [ -x /usr/bin/python3 ] || { echo "KADP-VM: FAIL json-list: /usr/bin/python3 not installed"; return; }
  /usr/bin/python3 - "$work/console.txt" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
raw = [l[len("KADP-JSON: "):] for l in lines if l.startswith("KADP-JSON: ")]
text = [l[len("KADP-IPVSADM: "):] for l in lines if l.startswith("KADP-IPVSADM: ")]
def fail(why):
    print("KADP-VM: FAIL json-list: " + why)
    sys.exit(0)
if len(raw) != 1 or not text:
    fail("the VM printed %d JSON lines and %d ipvsadm lines" % (len(raw), len(text)))
try:
    reply = json.loads(raw[0])
except ValueError as e:
    fail("not JSON: %s" % e)
if reply.get("ok") is not True or reply.get("command") != "list":
    fail("reply %r" % raw[0][:200])
r = reply["result"]
if r.get("backend") != "kernel":
    fail("backend %r" % r.get("backend"))
def ap(addr, port):
    return ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, port)
got = []
for s in r["services"]:
    name = "FWM %d" % s["fwmark"] if s["fwmark"] else "%s %s" % (s["protocol"], ap(s["address"], s["port"]))
    got.append((name, s["scheduler"], tuple(sorted((ap(d["address"], d["port"]), d["forward"], d["weight"]) for d in s["dests"]))))
want, header = [], text[0]
for l in text[3:]:
    t = l.split()
    if t[0] == "->":
        want[-1][2].append((t[1], t[2], int(t[3])))
    else:
        want.append(("%s %s" % (t[0], t[1]), t[2], []))
want = [(n, sc, tuple(sorted(d))) for n, sc, d in want]
if header != "IP Virtual Server version %s (size=%d)" % (r["ipvs_version"], r["conn_table_size"]):
    fail("ipvsadm says %r, the JSON version %r size %r" % (header, r["ipvs_version"], r["conn_table_size"]))
if sorted(got) != sorted(want):
    fail("JSON %r, ipvsadm %r" % (sorted(got), sorted(want)))
print("KADP-VM: PASS json-list: %d services, %d real servers, as ipvsadm -Ln" % (len(got), sum(len(g[2]) for g in got)))
PY
}
json_check >>"$work/console.txt"

grep -a '^KADP-VM: \|^KADP-LOG: ' "$work/console.txt" | sed 's/^KADP-VM: //; s/^KADP-LOG: /  log: /'
passes=$(grep -ac '^KADP-VM: PASS ' "$work/console.txt")
fails=$(grep -ac '^KADP-VM: FAIL ' "$work/console.txt")
if ! grep -aq '^KADP-VM: DONE ' "$work/console.txt"; then
  echo "--- console (last 40 lines; qemu exit $qemu_rc)"
  tail -40 "$work/console.txt"
  echo "FAIL: kernel_ipvs_vm: the VM did not finish"
  echo "COUNT $passes $((fails + 1)) 0"
  exit 1
fi
echo "COUNT $passes $fails 0"
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]
