#!/bin/bash
# Runs on: the test host (no root, no network). Proves docs/migration.md's
# keyword table true to the parser: for every row, a tiny configuration that
# uses the row's example line in its section goes through `kadp -t` and the
# outcome must match the row's column:
#   uses / kept   exit 0, no diagnostic at all
#   ignored       exit 0, a warning on the example's line naming the keyword
#   rejected      exit not 0, an error on the example's line (FILE:LINE: error:)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KADP=${KADP:-${KADP_BUILD:-$ROOT/build}/kadp}
DOC=${DOC:-$ROOT/docs/migration.md}
[[ $KADP = /* ]] || KADP=$ROOT/$KADP
if [[ ! -x $KADP ]]; then echo "SKIP: no kadp at $KADP"; echo "COUNT 0 0 1"; exit 77; fi

TMP=$(mktemp -d /tmp/kadp-migration.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0

# The smallest clean configuration around LINE for each section of the table.
# Every template is itself clean (checked below), so any diagnostic is LINE's.
# The marker line @@ is replaced by the example line.
template() {
    case $1 in
    top) printf '@@\n' ;;
    global_defs) printf 'global_defs {\n@@\n}\n' ;;
    vrrp_script) printf 'global_defs {\nenable_script_security\nscript_user root\n}\nvrrp_script S {\nscript "/bin/true"\n@@\n}\n' ;;
    vrrp_instance) printf 'global_defs {\nenable_script_security\nscript_user root\n}\nvrrp_script S {\nscript "/bin/true"\n}\nvrrp_instance VI_1 {\ninterface lo\nvirtual_router_id 51\nvirtual_ipaddress {\n198.18.0.201\n}\n@@\n}\n' ;;
    vrrp_sync_group) printf 'global_defs {\nenable_script_security\nscript_user root\n}\nvrrp_script S {\nscript "/bin/true"\n}\nvrrp_instance VI_1 {\ninterface lo\nvirtual_router_id 51\nvirtual_ipaddress {\n198.18.0.201\n}\n}\nvrrp_instance VI_2 {\ninterface lo\nvirtual_router_id 52\nvirtual_ipaddress {\n198.18.0.202\n}\n}\nvrrp_sync_group G {\ngroup {\nVI_1\nVI_2\n}\n@@\n}\n' ;;
    virtual_server_group) printf 'virtual_server_group G {\n@@\n}\nvirtual_server group G {\nlb_algo rr\nlb_kind NAT\nprotocol TCP\nreal_server 198.18.1.1 80 {\n}\n}\n' ;;
    virtual_server) printf 'global_defs {\nenable_script_security\nscript_user root\n}\nvirtual_server 198.18.0.100 80 {\nlb_algo rr\nlb_kind NAT\nprotocol TCP\n@@\nreal_server 198.18.1.1 80 {\n}\n}\n' ;;
    virtual_server_udp) printf 'virtual_server 198.18.0.100 53 {\nlb_algo rr\nlb_kind NAT\nprotocol UDP\n@@\nreal_server 198.18.1.1 53 {\n}\n}\n' ;;
    real_server) printf 'global_defs {\nenable_script_security\nscript_user root\n}\nvirtual_server 198.18.0.100 80 {\nlb_algo rr\nlb_kind NAT\nprotocol TCP\nreal_server 198.18.1.1 80 {\n@@\n}\n}\n' ;;
    *_CHECK|HTTP_GET|SSL_GET) printf 'global_defs {\nenable_script_security\nscript_user root\n}\nvirtual_server 198.18.0.100 80 {\nlb_algo rr\nlb_kind NAT\nprotocol TCP\nreal_server 198.18.1.1 80 {\n%s {\n%s@@\n}\n}\n}\n' "$1" "$(checker_needs "$1")" ;;
    url) printf 'global_defs {\nenable_script_security\nscript_user root\n}\nvirtual_server 198.18.0.100 80 {\nlb_algo rr\nlb_kind NAT\nprotocol TCP\nreal_server 198.18.1.1 80 {\nHTTP_GET {\nurl {\npath /\n@@\n}\n}\n}\n}\n' ;;
    authentication) printf 'vrrp_instance VI_1 {\ninterface lo\nvirtual_router_id 51\nvirtual_ipaddress {\n198.18.0.201\n}\nauthentication {\nauth_pass s3cret\n@@\n}\n}\n' ;;
    dataplane) printf 'dataplane {\ninterface eth0 {\ndevice net_tap0\naddress 198.18.0.1/24\n}\n@@\n}\n' ;;
    dataplane_interface) printf 'dataplane {\ninterface eth0 {\ndevice net_tap0\n@@\n}\n}\n' ;;
    *) return 1 ;;
    esac
}

# What a checker needs to be kept at all (keepalived drops it otherwise).
checker_needs() {
    case $1 in
    HTTP_GET|SSL_GET) printf 'url {\npath /\n}\n' ;;
    MISC_CHECK) printf 'misc_path "/bin/true"\n' ;;
    FILE_CHECK) printf 'track_file F\n' ;;
    esac
}

# The templates alone must be clean.
for ctx in top global_defs vrrp_script vrrp_instance vrrp_sync_group virtual_server_group virtual_server virtual_server_udp real_server \
           url authentication TCP_CHECK HTTP_GET SSL_GET SMTP_CHECK MISC_CHECK DNS_CHECK UDP_CHECK PING_CHECK FILE_CHECK BFD_CHECK \
           dataplane dataplane_interface; do
    line='#'
    [[ $ctx = virtual_server_group ]] && line='198.18.0.100 80'
    template "$ctx" | sed "s|^@@\$|$line|" >"$TMP/t.conf"
    out=$("$KADP" -t -f "$TMP/t.conf" 2>&1); rc=$?
    if [[ $rc -ne 0 || -n $out ]]; then
        echo "FAIL: template $ctx is not clean (exit $rc): $out"; fail=$((fail + 1))
    fi
done

# Rows: | section | `keyword` | `example line` | outcome | notes |
rows=0
while IFS=$'\t' read -r ctx keyword example outcome; do
    rows=$((rows + 1))
    conf="$TMP/row$rows.conf"
    if ! template "$ctx" >"$TMP/tpl"; then
        echo "FAIL: $keyword: unknown section '$ctx' in the table"; fail=$((fail + 1)); continue
    fi
    line_no=$(grep -n '^@@$' "$TMP/tpl" | cut -d: -f1)
    awk -v l="$example" '$0 == "@@" { print l; next } { print }' "$TMP/tpl" >"$conf"
    out=$("$KADP" -t -f "$conf" 2>&1); rc=$?
    at="$conf:$line_no:"
    ok=0
    case $outcome in
    uses|kept) [[ $rc -eq 0 && -z $out ]] && ok=1 ;;
    ignored|warns) [[ $rc -eq 0 ]] && grep -F "$at warning:" <<<"$out" | grep -qF "$keyword" && ok=1 ;;
    rejected) [[ $rc -ne 0 ]] && grep -qF "$at error:" <<<"$out" && ok=1 ;;
    *) echo "FAIL: $keyword: unknown outcome '$outcome'"; fail=$((fail + 1)); continue ;;
    esac
    if [[ $ok -eq 1 ]]; then
        pass=$((pass + 1))
    else
        echo "FAIL: [$ctx] $example: table says $outcome, kadp -t exit $rc: ${out:-<no output>}"
        fail=$((fail + 1))
    fi
done < <(awk -F'|' '
    /<!-- keyword-table-begin -->/ { on = 1; next }
    /<!-- keyword-table-end -->/ { on = 0 }
    on && NF >= 6 && $2 !~ /^ *(section|---)/ {
        for (i = 2; i <= 5; i++) { gsub(/^ +| +$/, "", $i); gsub(/^`|`$/, "", $i) }
        gsub(/\\\|/, "|", $4)
        print $2 "\t" $3 "\t" $4 "\t" $5
    }' "$DOC")

# Complete: every keyword in the parser's tables (conf/) has a row (as the
# keyword, a section, or inside a row's example: `device` in `interface ... { device X }`).
table_words=$(awk -F'|' '/<!-- keyword-table-begin -->/ { on = 1; next } /<!-- keyword-table-end -->/ { on = 0 }
    on && NF >= 6 { print $2; print $3; print $4 }' "$DOC" | tr -c 'A-Za-z0-9_~-' '\n' | sort -u)
parser_words=$( {
    grep -ho '{"[A-Za-z0-9_-]*",' "$ROOT"/conf/load.cpp "$ROOT"/conf/parse_global.cpp "$ROOT"/conf/parse_vrrp.cpp \
        "$ROOT"/conf/parse_lvs.cpp "$ROOT"/conf/parse_checkers.cpp "$ROOT"/conf/parse_dataplane.cpp
    grep -ho 'emplace_back("[A-Za-z0-9_-]*"' "$ROOT"/conf/parse_checkers.cpp
    for list in kKnown kOtherGlobal kOtherInstance kOtherSyncGroup; do
        sed -n "/$list\[\] = {/,/};/p" "$ROOT"/conf/*.cpp
    done
    sed -n '/add_kept_keywords(table, c, {/p' "$ROOT"/conf/parse_checkers.cpp
} | grep -o '"[A-Za-z0-9_-]*"' | tr -d '"' | sort -u)
missing=$(comm -23 <(echo "$parser_words") <(echo "$table_words"))
if [[ -n $missing ]]; then
    echo "FAIL: keywords of conf/ without a row in $DOC:" $missing; fail=$((fail + 1))
else
    echo "PASS: all $(echo "$parser_words" | wc -l) keywords of the parser's tables have a row"; pass=$((pass + 1))
fi

if [[ $rows -lt 100 ]]; then echo "FAIL: only $rows keyword rows found in $DOC"; fail=$((fail + 1)); fi
[[ $fail -eq 0 ]] && echo "PASS: $pass keyword rows of $DOC match kadp -t"
echo "COUNT $pass $fail 0"
[[ $fail -eq 0 ]]
