#!/usr/bin/env bash
# Health checkers end to end on the NAT topology (tests/lib/nat_topology.sh):
# kadp with the DPDK backend and its exception path (the checks leave from
# the kadp namespace's kernel through the TAPs), three nginx real servers.
#
#   client 198.18.0.1 --- [lan  kadp  srv] --- bridge --- 198.19.0.{1,2,3} nginx
#                          kadp-lan / kadp-srv TAPs: the checkers' sockets
#
# Services (delay_loop 1, retry 1, delay_before_retry 1, connect_timeout 1):
#   198.18.0.100:80    rr over the three nginx: 198.19.0.1 by HTTP_GET with
#                      the digest keepalived's own genhash prints for it,
#                      198.19.0.2 and .3 by TCP_CHECK;
#   198.18.0.100:443   198.19.0.3:443, an HTTPS nginx (certificate made now by
#                      openssl req -x509), by SSL_GET with enable_sni;
#   198.18.0.100:8080  198.19.0.1:80 by HTTP_GET with a wrong digest;
#   198.18.0.100:8443  198.19.0.1:80 by SSL_GET: plain HTTP, a TLS error;
#   198.18.0.100:8081  198.19.0.2:8081, a listener that accepts and never
#                      answers, by HTTP_GET (read timeout);
#   198.18.0.100:8082  198.19.0.2:80 by MISC_CHECK: a script (with an
#                      argument) that exits with the code a file holds;
#   198.18.0.100:8083  198.19.0.1:80 and .2:80 by MISC_CHECKs, quorum 2,
#                      sorry_server 198.19.0.3:80, quorum_up/_down scripts.
#
# Cases: (a) the checks pass ("TCP connection to ... success.", "Remote Web
# server ... succeed on service." for the genhash digest and for SSL_GET) and
# 30 client requests reach all three servers; (b) nginx 2 stopped: it is
# removed ("Removing service [198.19.0.2]:tcp:80 from VS
# [198.18.0.100]:tcp:80") within delay_loop*(retry+1) plus generous slack,
# `kadpctl list` shows it at weight 0, and 30 new requests all succeed and
# reach only servers 1 and 3; (c) nginx 2 restarted: "Adding service ... to
# VS ...", weight 1 again, and the requests reach all three again; (d) the digest mismatch removes 198.19.0.1 from :8080 ("MD5
# digest error to server", "Removing service") and the client is refused
# nothing on :80 meanwhile; (e) the silent server is removed from :8081 after
# "Timeout HTTP read server [198.19.0.2]:tcp:8081.", and the SSL_GET on plain
# HTTP from :8443 after "SSL handshake/communication error"; (f) SIGHUP with the
# same file: no checker restarts, the :8080 verdict stays; (g) kadp stops
# cleanly; (h) `kadp genhash` prints what keepalived's genhash prints, over
# HTTP and HTTPS, for a small page and a 1 MB file; (i) SMTP_CHECK passes
# on Python's smtpd (220, HELO, 250, QUIT) on 198.19.0.3:25 and fails
# ("SMTP_CHECK Read timeout from server") on nginx, which sends no greeting;
# (j) MISC_CHECK: exit 0 keeps 198.19.0.2 at weight 1 on :8082, the file
# flipped to 1 removes it (weight 0 in `kadpctl list`), back to 0 returns it
# (weight 1); its notify_down / notify_up scripts ran; (k) quorum on
# 198.18.0.100:8083 (two MISC_CHECKed servers of weight 1, quorum 2, sorry
# server 198.19.0.3:80): one server failing loses it ("Lost quorum", "Adding
# sorry server"), the sorry server alone takes the requests; the server back
# regains it and the sorry server leaves; quorum_down / quorum_up ran.
#
# Needs root, nginx, curl, ethtool, openssl, python3 (with smtpd), genhash
# (keepalived).
# Exit 0 pass, 77 skip, else fail; the last line is "COUNT passed failed
# skipped". Environment: KADP.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
KADP=${KADP:-${KADP_BUILD:-build}/kadp}
KADPCTL=${KADPCTL:-${KADP_BUILD:-build}/kadpctl}
PY=/usr/bin/python3

. tests/lib/nat_topology.sh
nat_topo_test_start "$KADP"
for tool in openssl genhash; do
  command -v $tool >/dev/null || { echo "SKIP: no $tool"; echo "COUNT 0 0 1"; exit 77; }
done
[ -x "$PY" ] || { echo "SKIP: no $PY"; echo "COUNT 0 0 1"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; echo "COUNT 0 0 1"; exit 77; }

if ! nat_topo_setup "kadp-chk-$$" lan srv; then echo "FAIL: topology setup"; echo "COUNT 0 1 0"; exit 1; fi
tmp=$NT_DIR
lb() { nat_topo_in_ns "$NT_NS_LB" "$@"; }
srv() { local i=$1; shift; nat_topo_in_ns "${NT_NS_S[$((i - 1))]}" "$@"; }
setup_fail() { echo "FAIL: setup: $1"; [ -n "${2:-}" ] && sed 's/^/    | /' "$2" | tail -20; echo "COUNT 0 1 0"; exit 1; }

# The kernel ignores its copy of what it sees on the af_packet veths: what
# its sockets (the checkers') get came through the TAPs (exception_netns.sh).
lb sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 \
  net.ipv4.conf.lan.rp_filter=1 net.ipv4.conf.srv.rp_filter=1 \
  net.ipv4.conf.lan.arp_ignore=8 net.ipv4.conf.srv.arp_ignore=8 || setup_fail sysctl

# An HTTPS nginx on 198.19.0.3:443 with a certificate made now.
d=$tmp/tls
mkdir -p "$d"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=www.kadp.test" \
  -keyout "$d/key.pem" -out "$d/cert.pem" >"$d/openssl.log" 2>&1 || setup_fail "openssl req" "$d/openssl.log"
nat_topo_nginx_conf "$d" "        listen 198.19.0.3:443 ssl;
        server_name www.kadp.test;
        ssl_certificate $d/cert.pem;
        ssl_certificate_key $d/key.pem;
        root $tmp/www3;"
ip netns exec "${NT_NS_S[2]}" nginx -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 &
NT_PIDS+=($!)

# A server that accepts and never answers, on 198.19.0.2:8081.
cat >"$tmp/silent.py" <<'PY'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.19.0.2", 8081)); s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)  # never read, never answered, never closed
PY
srv 2 "$PY" "$tmp/silent.py" >"$tmp/silent.log" 2>&1 &
NT_PIDS+=($!)

# An SMTP server on 198.19.0.3:25 (Python's smtpd, from Debian's python3).
srv 3 "$PY" -W ignore -m smtpd -n -c DebuggingServer 198.19.0.3:25 >"$tmp/smtpd.log" 2>&1 &
NT_PIDS+=($!)

for _ in $(seq 50); do
  srv 3 ss -ltn 2>/dev/null | grep -q "198.19.0.3:25 " &&
  srv 3 ss -ltn 2>/dev/null | grep -q "198.19.0.3:443" && srv 2 ss -ltn 2>/dev/null | grep -q "198.19.0.2:8081" && break
  sleep 0.1
done
srv 3 ss -ltn | grep -q "198.19.0.3:443" || setup_fail "https nginx does not listen" "$d/error.log"
srv 2 ss -ltn | grep -q "198.19.0.2:8081" || setup_fail "silent listener does not listen" "$tmp/silent.log"
srv 3 ss -ltn | grep -q "198.19.0.3:25 " || setup_fail "smtpd does not listen" "$tmp/smtpd.log"

head -c 1000000 /dev/urandom >"$tmp/big.bin"
nat_topo_publish "$tmp/big.bin" || setup_fail "big.bin"

# keepalived's own genhash gives the digest HTTP_GET expects.
digest=$(srv 1 genhash -s 198.19.0.1 -p 80 -u /index.html 2>"$tmp/genhash.log" | tr -d '[:space:]')
[[ "$digest" =~ ^[0-9a-f]{32}$ ]] || setup_fail "genhash printed '$digest'" "$tmp/genhash.log"

echo 0 >"$tmp/misc_code"
printf '#!/bin/sh\n[ "$1" = ARG ] || exit 1\nexit "$(cat %s)"\n' "$tmp/misc_code" >"$tmp/misc.sh"
printf '#!/bin/sh\necho "$*" >>%s\n' "$tmp/notify.log" >"$tmp/notify.sh"
printf '#!/bin/sh\nexit "$(cat "$1")"\n' >"$tmp/qmisc.sh"
printf '#!/bin/sh\necho "$1" >>%s\n' "$tmp/quorum.log" >"$tmp/quorum.sh"
echo 0 >"$tmp/q1_code"
echo 0 >"$tmp/q2_code"
chmod 0755 "$tmp/misc.sh" "$tmp/notify.sh" "$tmp/qmisc.sh" "$tmp/quorum.sh"

timers='        connect_timeout 1
        retry 1
        delay_before_retry 1'
{
  nat_topo_dataplane af_packet
  cat <<CONF
virtual_server 198.18.0.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.1 80 {
        HTTP_GET {
            url {
                path /index.html
                digest $digest
            }
$timers
        }
    }
    real_server 198.19.0.2 80 {
        TCP_CHECK {
$timers
        }
    }
    real_server 198.19.0.3 80 {
        TCP_CHECK {
$timers
        }
    }
}
virtual_server 198.18.0.100 443 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.3 443 {
        SSL_GET {
            url {
                path /index.html
                status_code 200
            }
            virtualhost www.kadp.test
            enable_sni
$timers
        }
    }
}
virtual_server 198.18.0.100 8080 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.1 80 {
        HTTP_GET {
            url {
                path /index.html
                digest 00000000000000000000000000000000
            }
$timers
        }
    }
}
virtual_server 198.18.0.100 8443 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.1 80 {
        SSL_GET {
            url {
                path /index.html
            }
$timers
        }
    }
}
virtual_server 198.18.0.100 25 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.3 25 {
        SMTP_CHECK {
            helo_name lb1.kadp.test
$timers
        }
    }
}
virtual_server 198.18.0.100 2525 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.1 80 {
        SMTP_CHECK {
$timers
        }
    }
}
virtual_server 198.18.0.100 8082 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.2 80 {
        notify_up "$tmp/notify.sh up 8082"
        notify_down "$tmp/notify.sh down 8082"
        MISC_CHECK {
            misc_path "$tmp/misc.sh ARG"
            misc_timeout 2
            retry 1
            delay_before_retry 1
        }
    }
}
virtual_server 198.18.0.100 8083 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 2
    quorum_up "$tmp/quorum.sh up"
    quorum_down "$tmp/quorum.sh down"
    sorry_server 198.19.0.3 80
    real_server 198.19.0.1 80 {
        MISC_CHECK {
            misc_path "$tmp/qmisc.sh $tmp/q1_code"
            retry 0
        }
    }
    real_server 198.19.0.2 80 {
        MISC_CHECK {
            misc_path "$tmp/qmisc.sh $tmp/q2_code"
            retry 0
        }
    }
}
virtual_server 198.18.0.100 8081 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.19.0.2 8081 {
        HTTP_GET {
            url {
                path /
            }
$timers
        }
    }
}
CONF
} >"$tmp/chk.conf"

log=$tmp/kadp.log
if ! nat_topo_kadp_start "$tmp/chk.conf" "$log" chk; then
  fail kadp_start "kadp did not start" "$log"
  echo "COUNT $passed $failed $skipped"; exit 1
fi

# logged LINE: kadp logged exactly that line (":tcp:80" must not match ":tcp:8080").
logged() { grep -qxF -- "kadp: $1" "$log"; }
# wait_log SECONDS LINE: until kadp logged it.
wait_log() {
  local i
  for i in $(seq $(($1 * 10))); do
    logged "$2" && return 0
    sleep 0.1
  done
  return 1
}
# `n` requests to the VIP's port 80; prints "count name" per server, and
# "failed" lines for requests that got nothing.
tally() {
  local n=$1 port=${2:-80} i
  for i in $(seq "$n"); do nat_topo_client curl -s --max-time 5 "http://198.18.0.100:$port/" || echo "failed"; done |
    sort | uniq -c | sed 's/^ *//' | tr '\n' ';'
}
count_of() { echo "$1" | tr ';' '\n' | grep " $2\$" | cut -d' ' -f1; }

# weight_of DEST [VPORT]: the weight `kadpctl --json list` shows for DEST
# (ADDR:PORT) in the service 198.18.0.100:VPORT (80).
weight_of() {
  "$KADPCTL" -s "$NT_KADP_SOCK" --json list 2>/dev/null | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
for s in r["result"]["services"]:
    if s["address"] == "198.18.0.100" and s["port"] == int(sys.argv[2]):
        for d in s["dests"]:
            if "%s:%d" % (d["address"], d["port"]) == sys.argv[1]: print(d["weight"])
' "$1" "${2:-80}"
}

# --- (a) -------------------------------------------------------------------------------
a_ok=1
for line in "TCP connection to [198.19.0.2]:tcp:80 success." "TCP connection to [198.19.0.3]:tcp:80 success." \
            "Remote Web server [198.19.0.1]:tcp:80 succeed on service." \
            "Remote Web server [198.19.0.3]:tcp:443 succeed on service."; do
  wait_log 15 "$line" || { a_ok=; fail a_checks_pass "no '$line'" "$log"; }
done
t=$(tally 30)
if [ "$(count_of "$t" "server 1")" = 10 ] && [ "$(count_of "$t" "server 2")" = 10 ] &&
   [ "$(count_of "$t" "server 3")" = 10 ]; then
  [ -n "$a_ok" ] && pass a_checks_pass_and_all_serve
else
  fail a_checks_pass_and_all_serve "30 requests: $t" "$log"
fi

# --- (b) nginx 2 stopped -----------------------------------------------------------------
kill -TERM "${NT_PIDS[1]}"
wait "${NT_PIDS[1]}" 2>/dev/null
stopped_at=$(date +%s)
# delay_loop*(retry+1) + connect_timeout is about 3 s; 20 s of slack for a busy machine.
if wait_log 23 "Removing service [198.19.0.2]:tcp:80 from VS [198.18.0.100]:tcp:80"; then
  took=$(($(date +%s) - stopped_at))
  logged "TCP_CHECK on service [198.19.0.2]:tcp:80 failed after 1 retries." &&
    pass "b_stopped_server_removed (${took} s)" ||
    fail b_stopped_server_removed "no 'failed after 1 retries' line" "$log"
  w=$(weight_of 198.19.0.2:80)
  [ "$w" = 0 ] && pass b_kadpctl_shows_weight_0 || fail b_kadpctl_shows_weight_0 "weight '$w'" "$log"
  t=$(tally 30)
  if [ -z "$(count_of "$t" "server 2")" ] && [ -z "$(count_of "$t" failed)" ] &&
     [ "$(count_of "$t" "server 1")" = 15 ] && [ "$(count_of "$t" "server 3")" = 15 ]; then
    pass b_traffic_to_the_other_two
  else
    fail b_traffic_to_the_other_two "30 requests: $t" "$log"
  fi
else
  fail b_stopped_server_removed "not removed within 23 s" "$log"
fi

# --- (c) nginx 2 restarted ----------------------------------------------------------------
ip netns exec "${NT_NS_S[1]}" nginx -c "$tmp/srv2/nginx.conf" -e "$tmp/srv2/error.log" >>"$tmp/srv2/stdout.log" 2>&1 &
NT_PIDS+=($!)
if wait_log 23 "Adding service [198.19.0.2]:tcp:80 to VS [198.18.0.100]:tcp:80"; then
  pass c_restarted_server_added
  w=$(weight_of 198.19.0.2:80)
  [ "$w" = 1 ] && pass c_kadpctl_shows_weight_1 || fail c_kadpctl_shows_weight_1 "weight '$w'" "$log"
  t=$(tally 30)
  if [ "$(count_of "$t" "server 1")" = 10 ] && [ "$(count_of "$t" "server 2")" = 10 ] &&
     [ "$(count_of "$t" "server 3")" = 10 ]; then
    pass c_traffic_to_all_three
  else
    fail c_traffic_to_all_three "30 requests: $t" "$log"
  fi
else
  fail c_restarted_server_added "not added within 23 s" "$log"
fi

# --- (d) digest mismatch, (e) read timeout ------------------------------------------------------
if logged "MD5 digest error to server [198.19.0.1]:tcp:80." &&
   logged "Removing service [198.19.0.1]:tcp:80 from VS [198.18.0.100]:tcp:8080"; then
  pass d_digest_mismatch_removes
else
  fail d_digest_mismatch_removes "no digest error / removal from :8080" "$log"
fi
if logged "Removing service [198.19.0.1]:tcp:80 from VS [198.18.0.100]:tcp:80"; then
  fail d_good_digest_stays "198.19.0.1 was removed from :80" "$log"
else
  pass d_good_digest_stays
fi
if wait_log 10 "Removing service [198.19.0.2]:tcp:8081 from VS [198.18.0.100]:tcp:8081" &&
   logged "Timeout HTTP read server [198.19.0.2]:tcp:8081."; then
  pass e_silent_server_times_out
else
  fail e_silent_server_times_out "no read timeout / removal from :8081" "$log"
fi

if wait_log 10 "Removing service [198.19.0.1]:tcp:80 from VS [198.18.0.100]:tcp:8443" &&
   grep -q "^kadp: SSL handshake/communication error (.*) connecting to server \[198.19.0.1\]:tcp:80\.$" "$log"; then
  pass e_tls_error_removes
else
  fail e_tls_error_removes "no handshake error / removal from :8443" "$log"
fi

# --- (i) SMTP_CHECK -------------------------------------------------------------------------------
if wait_log 10 "Remote SMTP server [198.19.0.3]:tcp:25 succeed on service." &&
   ! grep -q "^kadp: Removing service \[198.19.0.3\]:tcp:25 " "$log"; then
  pass i_smtp_check_passes
else
  fail i_smtp_check_passes "no SMTP success for 198.19.0.3:25" "$log"
fi
if wait_log 10 "Removing service [198.19.0.1]:tcp:80 from VS [198.18.0.100]:tcp:2525" &&
   logged "SMTP_CHECK Read timeout from server [198.19.0.1]:tcp:80"; then
  pass i_smtp_check_on_http_fails
else
  fail i_smtp_check_on_http_fails "no read timeout / removal from :2525" "$log"
fi

# --- (j) MISC_CHECK follows its script's exit code ------------------------------------------
misc="$tmp/misc.sh ARG"
j_ok=1
wait_log 15 "Misc check for [$misc] of [198.19.0.2]:tcp:80 succeeded." || { j_ok=; fail j_misc_check "no first success" "$log"; }
w=$(weight_of 198.19.0.2:80 8082); [ "$w" = 1 ] || { j_ok=; fail j_misc_check "weight '$w' while exit 0" "$log"; }
echo 1 >"$tmp/misc_code"
if wait_log 15 "Removing service [198.19.0.2]:tcp:80 from VS [198.18.0.100]:tcp:8082"; then
  logged "MISC_CHECK on service [198.19.0.2]:tcp:80 failed after 1 retries." || { j_ok=; fail j_misc_check "no failure line" "$log"; }
  w=$(weight_of 198.19.0.2:80 8082); [ "$w" = 0 ] || { j_ok=; fail j_misc_check "weight '$w' after exit 1" "$log"; }
else
  j_ok=; fail j_misc_check "not removed on exit 1" "$log"
fi
echo 0 >"$tmp/misc_code"
if wait_log 15 "Adding service [198.19.0.2]:tcp:80 to VS [198.18.0.100]:tcp:8082"; then
  w=$(weight_of 198.19.0.2:80 8082); [ "$w" = 1 ] || { j_ok=; fail j_misc_check "weight '$w' back at exit 0" "$log"; }
else
  j_ok=; fail j_misc_check "not added back on exit 0" "$log"
fi
for _ in $(seq 50); do [ "$(cat "$tmp/notify.log" 2>/dev/null)" = $'down 8082\nup 8082' ] && break; sleep 0.1; done
[ "$(cat "$tmp/notify.log" 2>/dev/null)" = $'down 8082\nup 8082' ] ||
  { j_ok=; fail j_misc_check "notify scripts wrote '$(cat "$tmp/notify.log" 2>/dev/null)'" "$log"; }
[ -n "$j_ok" ] && pass j_misc_check_follows_exit_code

# --- (k) quorum lost: the sorry server alone serves; regained: the real servers again ----------
vs8083="VS [198.18.0.100]:tcp:8083"
k_ok=1
w1=$(weight_of 198.19.0.1:80 8083); w3=$(weight_of 198.19.0.3:80 8083)
[ "$w1" = 1 ] && [ -z "$w3" ] || { k_ok=; fail k_quorum_sorry_server "at start: weight '$w1', sorry '$w3'" "$log"; }
echo 1 >"$tmp/q1_code"
if wait_log 15 "Lost quorum 2-0=2 > 1 for $vs8083"; then
  logged "Adding sorry server [198.19.0.3]:tcp:80 to $vs8083" || { k_ok=; fail k_quorum_sorry_server "no sorry line" "$log"; }
  w2=$(weight_of 198.19.0.2:80 8083); w3=$(weight_of 198.19.0.3:80 8083)
  [ "$w2" = 0 ] && [ "$w3" = 1 ] || { k_ok=; fail k_quorum_sorry_server "lost: live '$w2', sorry '$w3'" "$log"; }
  t=$(tally 10 8083)
  [ "$(count_of "$t" "server 3")" = 10 ] || { k_ok=; fail k_quorum_sorry_server "lost: 10 requests: $t" "$log"; }
else
  k_ok=; fail k_quorum_sorry_server "quorum not lost" "$log"
fi
echo 0 >"$tmp/q1_code"
if wait_log 15 "Gained quorum 2+0=2 <= 2 for $vs8083"; then
  w3=$(weight_of 198.19.0.3:80 8083)
  [ -z "$w3" ] || { k_ok=; fail k_quorum_sorry_server "regained: sorry server still listed ('$w3')" "$log"; }
  t=$(tally 10 8083)
  [ "$(count_of "$t" "server 1")" = 5 ] && [ "$(count_of "$t" "server 2")" = 5 ] ||
    { k_ok=; fail k_quorum_sorry_server "regained: 10 requests: $t" "$log"; }
else
  k_ok=; fail k_quorum_sorry_server "quorum not regained" "$log"
fi
for _ in $(seq 50); do [ "$(cat "$tmp/quorum.log" 2>/dev/null)" = $'down\nup' ] && break; sleep 0.1; done
[ "$(cat "$tmp/quorum.log" 2>/dev/null)" = $'down\nup' ] ||
  { k_ok=; fail k_quorum_sorry_server "quorum scripts wrote '$(cat "$tmp/quorum.log" 2>/dev/null)'" "$log"; }
[ -n "$k_ok" ] && pass k_quorum_lost_sorry_server_serves_and_goes

# --- (h) kadp genhash prints what keepalived's genhash prints -------------------------------------
h_ok=1
for args in "1 -s 198.19.0.1 -p 80 -u /index.html" "1 -s 198.19.0.1 -p 80 -u /big.bin" \
            "3 -S -s 198.19.0.3 -p 443 -u /index.html -V www.kadp.test" "3 -S -s 198.19.0.3 -p 443 -u /big.bin"; do
  read -r ns rest <<<"$args"
  # shellcheck disable=SC2086
  want=$(srv "$ns" genhash $rest 2>&1 | tr -d '[:space:]')
  # shellcheck disable=SC2086
  got=$(srv "$ns" "$KADP" genhash $rest 2>&1 | tr -d '[:space:]')
  if ! [[ "$want" =~ ^[0-9a-f]{32}$ ]] || [ "$got" != "$want" ]; then
    h_ok=
    fail h_genhash_matches_keepalived "genhash $rest: keepalived '$want', kadp '$got'"
  fi
done
[ -n "$h_ok" ] && pass h_genhash_matches_keepalived

# --- (f) a reload of the same file keeps the checkers and their verdicts ---------------------------
activations=$(grep -c "^kadp: Activating healthchecker" "$log")
kill -HUP "$NT_KADP_PID"
for _ in $(seq 100); do grep -q "^kadp: reload (SIGHUP): generation" "$log" && break; sleep 0.1; done
if grep -q "^kadp: reload (SIGHUP): generation" "$log"; then
  sleep 2
  if [ "$(grep -c "^kadp: Activating healthchecker" "$log")" = "$activations" ] &&
     [ "$(grep -c "^kadp: Removing service \[198.19.0.1\]:tcp:80 from VS \[198.18.0.100\]:tcp:8080$" "$log")" = 1 ] &&
     ! grep -q "^kadp: Adding service \[198.19.0.1\]:tcp:80 to VS \[198.18.0.100\]:tcp:8080$" "$log"; then
    pass f_reload_keeps_checkers_and_verdicts
  else
    fail f_reload_keeps_checkers_and_verdicts "checkers restarted or a verdict lost" "$log"
  fi
else
  fail f_reload_keeps_checkers_and_verdicts "no reload line" "$log"
fi

# --- (g) --------------------------------------------------------------------------------------
if nat_topo_kadp_stop; then pass g_stop; else fail g_stop "kadp did not stop cleanly" "$log"; fi

echo "COUNT $passed $failed $skipped"
[ "$failed" = 0 ]
