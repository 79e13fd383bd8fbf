#!/usr/bin/env bash
# The exception path end to end on the NAT topology (tests/lib/nat_topology.sh):
#
#   client 198.18.0.1 --- [lan  kadp  srv] --- bridge --- 198.19.0.{1,2,3} nginx
#                          |          |
#                   kadp-lan 198.18.0.254/24   kadp-srv 198.19.0.254/24   (TAPs kadp made,
#                   in the kadp namespace's kernel, with the ports' MACs)
#
# kadp's ports are af_packet, which shares frames with the kernel: the kadp
# namespace's kernel would also see every frame on the veths `lan` and `srv`
# and, once the TAPs give it 198.18.0.254 and 198.19.0.254, answer for them
# there too (weak host model; TESTING.md). This host has neither nftables
# nor tc's drop action, so the test makes the kernel ignore its copy with
# strict reverse-path filtering (every source routes through a TAP, so
# IPv4 arriving on lan/srv fails rp_filter) and arp_ignore=8 on lan/srv:
# whatever the kernel's sockets get came through the TAPs.
#
# Cases: (a) the TAPs exist with the ports' MACs, the MTU, the addresses
# and the dataplane block's route; (b) from the kadp namespace's kernel, curl a real server (the
# kernel ARPs and sends through kadp-srv, kadp bridges onto srv, the SYN-ACK
# comes back from nginx to 198.19.0.254 and goes through the TAP) and gets
# its page; (c) a TCP connection from the kadp namespace's kernel to a
# listener in the client namespace exchanges data both ways (a line up, a
# 300 kB answer down, checked by sha256); (d) the client reaches a listener
# in the kadp namespace's kernel on 198.18.0.254:8080 (TCP to a port
# address goes to the kernel), and a port there with no listener is refused
# at once by the kernel's RST (without the exception path the SYN would be
# dropped and curl would time out); (e) ping from the kernel to a real
# server (echo replies for a port address go to the kernel); (f) VIP
# traffic is forwarded by the data plane meanwhile: 20 client requests to
# the VIP and six 5 MB downloads (two at a time, sha256 checked), made
# while (b)-(e) run, all succeed; (g) the exception counters
# moved (exception_to_kernel, exception_tap_sent, exception_from_kernel,
# exception_arp_to_kernel) and nothing was dropped on the way; (h) after
# SIGTERM the TAPs are gone.
#
# Needs root, nginx, curl, ethtool, python3. Exit 0 pass, 77 skip, else
# fail; the last line is "COUNT passed failed skipped". Environment: KADP.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
PY=/usr/bin/python3

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
[ -x "$PY" ] || { echo "SKIP: no $PY"; echo "COUNT 0 0 1"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; echo "COUNT 0 0 1"; exit 77; }

if ! nat_topo_setup "kadp-exc-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
head -c 5000000 /dev/urandom >"$tmp/big.bin"
nat_topo_publish "$tmp/big.bin" || { echo "FAIL: topology setup (big.bin)"; echo "COUNT 0 1 0"; exit 1; }
big_sha=$(sha256sum <"$tmp/big.bin" | cut -d' ' -f1)
big_pids=()
lb() { nat_topo_in_ns "$NT_NS_LB" "$@"; }

# The kernel ignores what it sees on the af_packet veths (see above).
lb sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 \
  net.ipv4.conf.lan.rp_filter=1 net.ipv4.conf.srv.rp_filter=1 \
  net.ipv4.conf.lan.arp_ignore=8 net.ipv4.conf.srv.arp_ignore=8 || { echo "FAIL: sysctl"; echo "COUNT 0 1 0"; exit 1; }

{
  nat_topo_dataplane af_packet 65536 "        exception_interface kexc-srv" "    route 198.20.0.0/24 via 198.19.0.3"
  nat_topo_service rr 1 1 1
} >"$tmp/exc.conf"

# A listener that reads one line, answers "echo: LINE" and 300 kB of data.
cat >"$tmp/listener.py" <<'EOF'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(4)
open(sys.argv[3], "w").close()
while True:
    c, _ = s.accept()
    f = c.makefile("rb")
    line = f.readline().decode().strip()
    c.sendall(("echo: " + line + "\n").encode() + bytes(i % 251 for i in range(300000)))
    f.close(); c.shutdown(socket.SHUT_RDWR); c.close()
EOF
# Connects, sends a line, prints the answer's first line and the sha256 of the rest.
cat >"$tmp/talk.py" <<'EOF'
import hashlib, socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
c.sendall(b"hello from the kadp namespace\n")
data = b""
while True:
    b = c.recv(65536)
    if not b: break
    data += b
head, _, rest = data.partition(b"\n")
print(head.decode()); print(len(rest), hashlib.sha256(rest).hexdigest())
EOF
# An ICMP echo over a raw socket (no ping(8) here): exit 0 when the reply comes.
cat >"$tmp/ping.py" <<'EOF'
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(2)
body = struct.pack("!BBHHH", 8, 0, 0, 0x4b41, 1) + b"kadp-exception"
s.sendto(body[:2] + struct.pack("!H", csum(body)) + body[4:], (sys.argv[1], 0))
while True:
    pkt, _ = s.recvfrom(2048)
    icmp = pkt[(pkt[0] & 15) * 4:]
    if icmp[0] == 0 and icmp[4:6] == b"\x4b\x41":
        print("echo reply from", sys.argv[1]); break
EOF
want_sha=$($PY -c 'import hashlib; print(300000, hashlib.sha256(bytes(i % 251 for i in range(300000))).hexdigest())')

log=$tmp/kadp.log
if ! nat_topo_kadp_start "$tmp/exc.conf" "$log" exc; then
  fail kadp_start "kadp did not start" "$log"
  echo "COUNT $passed $failed $skipped"; exit 1
fi

# --- (a) the TAPs --------------------------------------------------------------------
a_ok=1
for pair in lan:kadp-lan:198.18.0.254/24 srv:kexc-srv:198.19.0.254/24; do
  IFS=: read -r port tap addr <<<"$pair"
  mac=$(lb cat /sys/class/net/"$port"/address)
  if ! lb ip -o link show "$tap" >"$tmp/link.$tap" 2>&1 ||
     ! grep -q "link/ether $mac " "$tmp/link.$tap" || ! grep -q "mtu 1500 " "$tmp/link.$tap" ||
     ! grep -q "state UP\|,UP" "$tmp/link.$tap" ||
     ! lb ip -o -4 addr show dev "$tap" | grep -q "inet $addr "; then
    a_ok=
    fail a_taps "$tap: want mac $mac, mtu 1500, up, $addr" "$tmp/link.$tap"
  fi
done
lb ip -o route show 198.20.0.0/24 >"$tmp/route" 2>&1
grep -q "via 198.19.0.3 dev kexc-srv" "$tmp/route" || { a_ok=; fail a_taps "no route 198.20.0.0/24 via 198.19.0.3 dev kexc-srv" "$tmp/route"; }
[ -n "$a_ok" ] && pass a_taps

# --- (f) VIP traffic from the client, in the background while (b)-(e) run ------------
# Two loops of 5 MB downloads keep the data plane busy; 20 small requests
# check new connections are made meanwhile.
for loop in 1 2; do
  (
    for i in 1 2 3; do
      nat_topo_client curl -s --max-time 20 http://198.18.0.100/big.bin | sha256sum | cut -d' ' -f1
    done
  ) >"$tmp/big$loop.sums" 2>&1 &
  NT_PIDS+=($!)
  big_pids+=($!)
done
(
  for i in $(seq 20); do
    nat_topo_client curl -s --max-time 5 -o /dev/null -w '%{http_code}\n' http://198.18.0.100/ || echo "fail $i"
    sleep 0.1
  done
) >"$tmp/vip.codes" 2>&1 &
vip_pid=$!
NT_PIDS+=("$vip_pid")

# --- (b) curl a real server from the kadp namespace's kernel ------------------------------
got=
for _ in $(seq 10); do
  got=$(lb curl -s --max-time 3 http://198.19.0.1/) && break
  sleep 0.3
done
if [ "$got" = "server 1" ]; then pass b_kernel_curls_real_server; else fail b_kernel_curls_real_server "got '$got'" "$log"; fi

# --- (c) a TCP connection from the kernel to the client side, data both ways --------------
nat_topo_client "$PY" "$tmp/listener.py" 198.18.0.1 7000 "$tmp/listener.ready" >"$tmp/listener.log" 2>&1 &
NT_PIDS+=($!)
for _ in $(seq 50); do [ -e "$tmp/listener.ready" ] && break; sleep 0.1; done
out=
for _ in $(seq 5); do
  out=$(lb "$PY" "$tmp/talk.py" 198.18.0.1 7000 2>&1) && break
  sleep 0.3
done
if [ "$out" = "echo: hello from the kadp namespace
$want_sha" ]; then
  pass c_kernel_tcp_to_client_both_ways
else
  fail c_kernel_tcp_to_client_both_ways "got: $(echo "$out" | tr '\n' '|')" "$tmp/listener.log"
fi

# --- (d) the client reaches the kernel's own listener on a port address --------------------
mkdir -p "$tmp/www-kadp"; echo "kadp namespace kernel" >"$tmp/www-kadp/index.html"
lb "$PY" -m http.server 8080 --bind 198.18.0.254 --directory "$tmp/www-kadp" >"$tmp/http.log" 2>&1 &
NT_PIDS+=($!)
got=
for _ in $(seq 30); do
  got=$(nat_topo_client curl -s --max-time 3 http://198.18.0.254:8080/) && break
  sleep 0.2
done
if [ "$got" = "kadp namespace kernel" ]; then pass d_client_reaches_kernel_listener; else fail d_client_reaches_kernel_listener "got '$got'" "$log"; fi
nat_topo_client curl -s --max-time 5 -o /dev/null http://198.18.0.254:8081/
rc=$?
# 7: connection refused (the kernel's RST came back); 28 would be a timeout.
if [ "$rc" = 7 ]; then pass d_closed_port_refused_by_kernel; else fail d_closed_port_refused_by_kernel "curl exit $rc, want 7"; fi

# --- (e) ping from the kernel --------------------------------------------------------------
if lb "$PY" "$tmp/ping.py" 198.19.0.2 >"$tmp/ping.log" 2>&1; then pass e_kernel_ping; else fail e_kernel_ping "no echo reply" "$tmp/ping.log"; fi

# --- (f) -----------------------------------------------------------------------------------
wait "$vip_pid"
for p in "${big_pids[@]}"; do wait "$p"; done
big_ok=$(cat "$tmp"/big*.sums | grep -c "^$big_sha$")
if [ "$(grep -c '^200$' "$tmp/vip.codes")" = 20 ] && [ "$big_ok" = 6 ]; then
  pass f_vip_forwarded_meanwhile
else
  fail f_vip_forwarded_meanwhile "$(grep -c '^200$' "$tmp/vip.codes") of 20 requests, $big_ok of 6 downloads intact" "$tmp/vip.codes"
fi

# --- (g) counters, (h) TAPs removed ----------------------------------------------------------
if ! nat_topo_kadp_stop; then
  fail stop "kadp did not stop cleanly" "$log"
else
  totals=$(grep '^kadp: counters (all workers):' "$log")
  counter() { echo "$totals" | grep -o " $1=[0-9]*" | cut -d= -f2; }
  g_ok=1
  for c in exception_to_kernel exception_tap_sent exception_from_kernel exception_arp_to_kernel nat_in nat_out; do
    [ "$(counter $c)" -gt 0 ] 2>/dev/null || { g_ok=; fail g_counters "$c not > 0" "$log"; }
  done
  for c in exception_ring_full exception_tap_full exception_from_kernel_drop; do
    [ -z "$(counter $c)" ] || { g_ok=; fail g_counters "$c=$(counter $c)" "$log"; }
  done
  # Every frame queued for the kernel reached a TAP.
  [ "$(counter exception_to_kernel)" = "$(counter exception_tap_sent)" ] ||
    { g_ok=; fail g_counters "to_kernel $(counter exception_to_kernel) != tap_sent $(counter exception_tap_sent)" "$log"; }
  [ -n "$g_ok" ] && pass g_counters
  if lb ip link show kadp-lan >/dev/null 2>&1 || lb ip link show kexc-srv >/dev/null 2>&1; then
    fail h_taps_removed "a TAP outlived kadp" "$log"
  else
    pass h_taps_removed
  fi
fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]
