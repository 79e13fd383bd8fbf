#!/usr/bin/env bash
# Config corpus: kadp's verdict on each keepalived.conf compared with the real
# keepalived 2.2.7 (`keepalived -t`) on the same file.
#
#   tests/scripts/conf_corpus_vs_keepalived.sh [FILE...]     (as root)
#
# Corpus: tests/corpus/valid/*.conf (keepalived -t exits 0), tests/corpus/
# invalid/*.conf (each breaks one rule keepalived reports: exit 5, or 6 for a
# script-security violation) and every Debian sample
# /usr/share/doc/keepalived/samples/keepalived.conf.* (copied to a temp dir at
# test time; not part of the repo). tests/corpus/include/ holds fixtures that
# corpus files include; they are not corpus files themselves. With FILE
# arguments only those files are checked (handy while fixing one parser).
#
# Script security: generated configurations (not files in the repo: they need
# files with given owners and modes) put a vrrp_script, a notify_master and a
# MISC_CHECK script in /tmp-like sticky directories, 0777 and 0775 directories,
# writable or non-root-owned files, behind symbolic links, under PATH, missing,
# and run them as root or as `nobody` (rows that need nobody/nogroup are
# skipped when those do not exist). Each row names keepalived's verdict
# (`# expect:`), so a keepalived that changes its mind fails the row, and every
# "SECURITY VIOLATION ..." and "Disabling track script ..." line keepalived
# prints must appear in kadp's output too. keepalived 2.2.7's `-t` kills
# itself with SIGTERM (exit 143) when it checks a script as a non-root user;
# for those rows its verdict is taken from a 3-second foreground run of the
# daemon instead (its log has the same lines, `-t` turns them into exit 5).
#
# Verdicts: `kadp -t --strict -f F` (0 clean, 5 errors or warnings, 6 script
# security) against `keepalived -t -f F` (0 clean, 5 anything reported, 6
# script security). Both run with the same config-id (`-i`) inside a
# private network namespace that holds exactly the interfaces the file names,
# so "interface doesn't exist" checks agree. Header comments in corpus files:
#   # interfaces: eth0 eth1   veth interfaces to create (samples: eth0-eth3, eth0.1)
#   # config-id: lb1          -i for both programs (default: corpus)
#   # expect-line: N          (invalid/) a kadp diagnostic must name line N
#   # expect: N               keepalived's exit status on this file
#   # cwd: DIR                both programs run in DIR (relative script paths)
# Every invalid/ file must also make kadp print at least one diagnostic
# "FILE:LINE: error|warning: ...". A valid/ file keepalived rejects, or an
# invalid/ file it accepts, is a corpus bug and fails too.
#
# Output: one "PASS: file" or "FAIL: file kadp=X keepalived=Y [why]" line per
# file (with both programs' messages on a failure), then "COUNT p f s".
# Environment: KADP (default build/kadp), KEEPALIVED (default keepalived).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
KADP=${KADP:-${KADP_BUILD:-$top/build}/kadp}
KEEPALIVED=${KEEPALIVED:-$(command -v keepalived || true)}
SAMPLES=/usr/share/doc/keepalived/samples
SAMPLE_IFACES="eth0 eth1 eth2 eth3 eth0.1"
DEFAULT_ID=corpus

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (network namespaces)"; exit 77; fi
if [ -z "$KEEPALIVED" ] || [ ! -x "$KEEPALIVED" ]; then echo "SKIP: keepalived is not installed"; exit 77; fi
if [ ! -x "$KADP" ]; then echo "FAIL: $KADP not built (ninja -C build)"; echo "COUNT 0 1 0"; exit 1; fi

prefix="kadpcc$$"
tmp=$(mktemp -d /tmp/kadp-corpus.XXXXXX)
namespaces=()
child=""

in_tmp="/tmp/kadp-corpus-$$.sh"  # a script straight in /tmp (sticky, world-writable)

cleanup() {
    [ -n "$child" ] && kill "$child" 2>/dev/null
    local ns
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$tmp" "$in_tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run OUTFILE CMD...: runs CMD in the background (so the trap can end it by
# PID), bounded by timeout; returns its exit status.
run() {
    local out=$1; shift
    timeout 30 "$@" >"$out" 2>&1 &
    child=$!
    wait "$child"
    local rc=$?
    child=""
    return "$rc"
}

header() {  # header FILE KEY -> value of "# KEY: value" (first one)
    sed -n "s/^#[[:space:]]*$2:[[:space:]]*//p" "$1" | head -1 | sed 's/[[:space:]]*$//'
}

# make_ns NAME IFACES...: a namespace with lo up and one veth pair per name.
make_ns() {
    local ns=$1; shift
    ip netns add "$ns" || return 1
    namespaces+=("$ns")
    ip -n "$ns" link set lo up
    local i=0 ifc
    for ifc in "$@"; do
        ip -n "$ns" link add "$ifc" type veth peer name "kcpeer$i" || return 1
        ip -n "$ns" link set "$ifc" up
        i=$((i + 1))
    done
}

del_ns() {
    ip netns del "$1" 2>/dev/null
    local keep=() ns
    for ns in "${namespaces[@]}"; do [ "$ns" != "$1" ] && keep+=("$ns"); done
    namespaces=("${keep[@]}")
}

indent() { sed -n '1,25s/^/    /p' "$1"; }

# The script-security lines keepalived prints (without its "(FILE: Line N)"
# prefix or the daemon's timestamp), one a line.
security_lines() {
    sed -E 's/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} [0-9]{4}: //; s/^\([^)]*\) //' "$1" |
        grep -E '^(SECURITY VIOLATION|Disabling track script)' | sort -u
}

# keepalived_daemon NS ID FILE CWD OUT: keepalived 2.2.7's `-t` verdict on
# FILE as its daemon shows it: a 3 s foreground run whose log has the lines
# `-t` would print (6 for a SECURITY VIOLATION, 5 for a disabled vrrp_script).
# For files whose scripts run as a non-root user: there `-t` kills itself.
keepalived_daemon() {
    local ns=$1 id=$2 f=$3 cwd=$4 out=$5
    run "$out.log" env -C "$cwd" timeout -s TERM 3 ip netns exec "$ns" "$KEEPALIVED" -n -l -D -i "$id" -f "$f" \
        -p "$tmp/keepalived.pid" -r "$tmp/vrrp.pid" -c "$tmp/checkers.pid"
    security_lines "$out.log" >"$out"
    if grep -q '^SECURITY VIOLATION' "$out"; then return 6; fi
    if [ -s "$out" ]; then return 5; fi
    return 0
}

passed=0 failed=0 skipped=0 seq=0
diag_re='^[^[:space:]]+:[0-9]+: (error|warning): '

# check FILE KIND(valid|invalid|sample) LABEL
check() {
    local f=$1 kind=$2 label=$3
    seq=$((seq + 1))
    local ns="$prefix-$seq"
    local ifaces id
    ifaces=$(header "$f" interfaces)
    [ "$kind" = sample ] && [ -z "$ifaces" ] && ifaces=$SAMPLE_IFACES
    id=$(header "$f" config-id)
    id=${id:-$DEFAULT_ID}
    # shellcheck disable=SC2086
    if ! make_ns "$ns" $ifaces; then
        echo "FAIL: $label cannot create namespace $ns with interfaces: $ifaces"
        failed=$((failed + 1)); del_ns "$ns"; return
    fi
    local cwd expect
    cwd=$(header "$f" cwd)
    cwd=${cwd:-$PWD}
    expect=$(header "$f" expect)
    local kout="$tmp/kadp.out" rout="$tmp/keepalived.out" krc rrc daemon=""
    run "$kout" env -C "$cwd" ip netns exec "$ns" "$KADP" -t --strict -i "$id" -f "$f"; krc=$?
    run "$rout" env -C "$cwd" ip netns exec "$ns" "$KEEPALIVED" -t -i "$id" -f "$f"; rrc=$?
    if [ "$rrc" -eq 143 ]; then
        daemon=" (keepalived -t killed itself: verdict from the daemon's log)"
        keepalived_daemon "$ns" "$id" "$f" "$cwd" "$rout"; rrc=$?
    fi
    del_ns "$ns"

    local why=()
    [ "$krc" -ne "$rrc" ] && why+=("verdicts differ")
    [ -n "$expect" ] && [ "$rrc" -ne "$expect" ] && why+=("corpus bug: keepalived exits $rrc, the file expects $expect")
    local line
    while IFS= read -r line; do
        grep -Fq -- "$line" "$kout" || why+=("kadp does not say: $line")
    done < <(security_lines "$rout")
    case $kind in
        valid) [ "$rrc" -ne 0 ] && why+=("corpus bug: keepalived rejects a valid/ file") ;;
        invalid) [ "$rrc" -eq 0 ] && why+=("corpus bug: keepalived accepts an invalid/ file") ;;
    esac
    if [ "$kind" = invalid ]; then
        grep -Eq "$diag_re" "$kout" || why+=("no FILE:LINE: error|warning: diagnostic")
        local line
        line=$(header "$f" expect-line)
        if [ -n "$line" ] && ! grep -Eq "^[^[:space:]]+:$line: (error|warning): " "$kout"; then
            why+=("no diagnostic names line $line")
        fi
    fi
    if [ ${#why[@]} -eq 0 ]; then
        echo "PASS: $label kadp=$krc keepalived=$rrc$daemon"
        passed=$((passed + 1))
    else
        local joined
        joined=$(printf '%s; ' "${why[@]}")
        echo "FAIL: $label kadp=$krc keepalived=$rrc$daemon (${joined%; })"
        echo "  kadp -t --strict:"; indent "$kout"
        echo "  keepalived -t:"; indent "$rout"
        failed=$((failed + 1))
    fi
}

# ------------------------------------------------------------ script security
# script_fixture DIR: the files the rows below run, under DIR (root's, 0755).
script_fixture() {
    local b=$1
    mk() {  # mk PATH MODE [OWNER [GROUP]]
        printf '#!/bin/sh\nexit 0\n' >"$1" && chown "${3:-root}:${4:-root}" "$1" && chmod "$2" "$1"
    }
    mkdir -p "$b" && chmod 755 "$b"
    mkdir -m 1777 "$b/sticky"
    mkdir -m 0777 "$b/w777"
    mkdir -m 0775 "$b/g775root"
    mk "$b/ok.sh" 755
    mk "$in_tmp" 755
    mk "$b/sticky/s.sh" 755
    mk "$b/w777/s.sh" 755
    mk "$b/w777/suid.sh" 4755
    mk "$b/g775root/s.sh" 755
    mk "$b/f666.sh" 666
    mk "$b/f777.sh" 777
    mk "$b/f775root.sh" 775
    ln -s "$b/ok.sh" "$b/w777/link-to-ok.sh"
    ln -s "$b/w777/s.sh" "$b/link-into-w777.sh"
    if [ -n "$other_group" ]; then
        mkdir -m 0775 "$b/g775other" && chgrp "$other_group" "$b/g775other"
        mk "$b/g775other/s.sh" 755
    fi
    if [ -n "$other_user" ]; then
        mkdir -m 0755 "$b/userdir" && chown "$other_user" "$b/userdir"
        mk "$b/userdir/s.sh" 755
        mk "$b/fuser.sh" 755 "$other_user" "$(id -gn "$other_user")"
    fi
}

# row NAME EXPECT WHERE SCRIPT [USER|-] [SECURITY 1|0] [CWD]: a configuration
# that runs SCRIPT from WHERE (track: a tracked vrrp_script, notify: a
# notify_master, misc: a MISC_CHECK) as USER (script_user; - for none).
row() {
    local name=$1 expect=$2 where=$3 script=$4 user=${5:-root} security=${6:-1} cwd=${7:-}
    local f="$tmp/scriptsec/$name.conf"
    {
        echo "# interfaces: eth0"
        echo "# expect: $expect"
        [ -n "$cwd" ] && echo "# cwd: $cwd"
        echo "global_defs {"
        [ "$security" = 1 ] && echo "    enable_script_security"
        [ "$user" != - ] && echo "    script_user $user"
        echo "}"
        case $where in
            track) printf 'vrrp_script chk {\n    script "%s"\n    interval 2\n}\n' "$script" ;;
            misc)
                printf 'virtual_server 198.18.0.55 53 {\n    delay_loop 10\n    lb_algo rr\n    lb_kind DR\n'
                printf '    protocol UDP\n    real_server 198.18.1.61 53 {\n        MISC_CHECK {\n'
                printf '            misc_path "%s"\n        }\n    }\n}\n' "$script" ;;
        esac
        if [ "$where" != misc ]; then
            printf 'vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 36\n'
            printf '    priority 100\n    virtual_ipaddress {\n        198.18.0.36\n    }\n'
            [ "$where" = track ] && printf '    track_script {\n        chk\n    }\n'
            [ "$where" = notify ] && printf '    notify_master "%s"\n' "$script"
            printf '}\n'
        fi
    } >"$f"
    files+=("$f")
}

# keepalived 2.2.7's verdicts (measured); `-t` reports only vrrp_scripts, the
# notify and MISC_CHECK scripts it disables silently.
script_rows() {
    local b=$tmp/ss
    mkdir -p "$tmp/scriptsec" && chmod 755 "$tmp"
    script_fixture "$b" || { echo "FAIL: cannot build the script fixture in $b"; failed=$((failed + 1)); return; }
    # enable_script_security, run as root: checked from "/" down the real path.
    row 01-secure 0 track "$b/ok.sh"
    row 02-in-tmp 0 track "$in_tmp"
    row 03-sticky-dir 0 track "$b/sticky/s.sh"
    row 04-dir-0777 5 track "$b/w777/s.sh"
    row 05-dir-0775-root-group 0 track "$b/g775root/s.sh"
    row 06-file-0666-not-executable 0 track "$b/f666.sh"
    row 07-file-0777 5 track "$b/f777.sh"
    row 08-file-0775-root-group 0 track "$b/f775root.sh"
    row 09-link-in-0777-to-secure 0 track "$b/w777/link-to-ok.sh"
    row 10-link-into-0777 5 track "$b/link-into-w777.sh"
    row 11-relative 0 track ./ok.sh root 1 "$b"
    row 12-relative-into-0777 5 track w777/s.sh root 1 "$b"
    row 13-path-search 0 track true
    row 14-path-search-missing 5 track kadp-no-such-script
    row 15-missing 5 track "$b/absent.sh"
    row 16-notify-dir-0777 0 notify "$b/w777/s.sh"
    row 17-notify-missing 0 notify "$b/absent.sh"
    row 18-misc-dir-0777 0 misc "$b/w777/s.sh"
    row 19-misc-file-0777 0 misc "$b/f777.sh"
    if [ -n "$other_group" ]; then
        row 20-dir-0775-other-group 5 track "$b/g775other/s.sh"
    else
        echo "SKIP: scriptsec/20: no group nogroup"; skipped=$((skipped + 1))
    fi
    if [ -n "$other_user" ]; then
        row 21-dir-owned-by-user 5 track "$b/userdir/s.sh"
        row 22-file-owned-by-user 5 track "$b/fuser.sh"
        # Run as that user: only a set-uid root script (or root's group)
        # needs protecting; keepalived -t dies here, the daemon decides.
        row 23-user-own-file 0 track "$b/fuser.sh" "$other_user"
        row 24-user-dir-0777 0 track "$b/w777/s.sh" "$other_user"
        row 25-user-setuid-root-in-0777 5 track "$b/w777/suid.sh" "$other_user"
        row 26-user-root-group-in-0777 5 track "$b/w777/s.sh" "$other_user root"
        row 27-user-missing 5 track "$b/absent.sh" "$other_user"
        row 28-user-no-security 6 track "$b/w777/s.sh" "$other_user" 0
    else
        echo "SKIP: scriptsec/21-28: no user nobody"; skipped=$((skipped + 1))
    fi
    # Without enable_script_security: scripts run, exit 6.
    row 30-no-security 6 track "$b/ok.sh" root 0
    row 31-no-security-insecure 6 track "$b/w777/s.sh" root 0
    row 32-no-security-notify 6 notify "$b/f777.sh" - 0
    row 33-no-security-misc 6 misc "$b/ok.sh" - 0
    row 34-no-security-misc-insecure 6 misc "$b/w777/s.sh" - 0
    row 35-no-security-missing 5 track "$b/absent.sh" - 0
    row 36-no-security-notify-missing 0 notify "$b/absent.sh" - 0
}
other_user=$(id -un nobody 2>/dev/null || true)
other_group=""
getent group nogroup >/dev/null && other_group=nogroup

files=()
if [ $# -gt 0 ]; then
    for a in "$@"; do files+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")"); done
else
    for f in "$top"/tests/corpus/valid/*.conf "$top"/tests/corpus/invalid/*.conf; do
        [ -f "$f" ] && files+=("$f")
    done
    if compgen -G "$SAMPLES/keepalived.conf.*" >/dev/null; then
        mkdir -p "$tmp/samples"
        cp "$SAMPLES"/keepalived.conf.* "$tmp/samples/"
        for f in "$tmp"/samples/keepalived.conf.*; do
            case $f in *.gz) continue ;; esac
            files+=("$f")
        done
    else
        echo "SKIP: no keepalived samples in $SAMPLES"
        skipped=$((skipped + 1))
    fi
    script_rows
fi

for f in "${files[@]}"; do
    case $f in
        "$top"/tests/corpus/valid/*) check "$f" valid "valid/$(basename "$f")" ;;
        "$top"/tests/corpus/invalid/*) check "$f" invalid "invalid/$(basename "$f")" ;;
        "$tmp"/samples/*) check "$f" sample "samples/$(basename "$f")" ;;
        "$tmp"/scriptsec/*) check "$f" scriptsec "scriptsec/$(basename "$f")" ;;
        *) check "$f" other "$f" ;;
    esac
done

echo "COUNT $passed $failed $skipped"
[ "$failed" -eq 0 ]
