#!/bin/bash
# Runs on: the test host (no root needed, no network). `meson install` of the
# build directory into a temporary DESTDIR puts the binaries, the man pages,
# the documentation and the example configuration where they belong; the man
# pages render without a single groff/man warning; the installed example
# passes `kadp -t`.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${KADP_BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
skip() { echo "SKIP: $1"; echo "COUNT 0 0 1"; exit 77; }
[[ -f $BUILD/build.ninja ]] || skip "no meson build directory at $BUILD"
command -v meson >/dev/null || skip "no meson"
command -v groff >/dev/null || skip "no groff (Debian package groff-base)"

DEST=$(mktemp -d /tmp/kadp-inst.XXXXXX)
trap 'rm -rf "$DEST"' EXIT
pass=0 fail=0
ok() { echo "PASS: $1"; pass=$((pass + 1)); }
ko() { echo "FAIL: $1"; fail=$((fail + 1)); }

if ! out=$(meson install -C "$BUILD" --no-rebuild --destdir "$DEST" 2>&1); then
    echo "$out" | tail -20
    ko "meson install --destdir failed"; echo "COUNT $pass $fail 0"; exit 1
fi

# Where meson put things for this build's prefix and directories.
opt() { meson introspect --buildoptions "$BUILD" | python3 -c \
    "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == sys.argv[1]))" "$1"; }
prefix=$(opt prefix)
at() { case $1 in /*) echo "$DEST$1" ;; *) echo "$DEST$prefix/$1" ;; esac; }
sbindir=$(at "$(opt sbindir)")
mandir=$(at "$(opt mandir)")
sysconfdir=$(at "$(opt sysconfdir)")
docdir=$(at "$(opt datadir)")/doc/kadp

for f in "$sbindir/kadp" "$sbindir/kadpctl"; do
    [[ -x $f ]] && ok "installed ${f#$DEST}" || ko "missing executable ${f#$DEST}"
done
for f in "$mandir/man8/kadp.8" "$mandir/man8/kadpctl.8" "$mandir/man5/kadp.conf.5" \
         "$sysconfdir/kadp/keepalived.conf.example" \
         "$docdir/migration.md" "$docdir/getting-started.md" "$docdir/troubleshooting.md" "$docdir/configuration.md"; do
    [[ -s $f ]] && ok "installed ${f#$DEST}" || ko "missing ${f#$DEST}"
done
cmp -s "$sysconfdir/kadp/keepalived.conf.example" "$ROOT/examples/keepalived.conf" \
    && ok "the example is examples/keepalived.conf" || ko "the installed example differs from examples/keepalived.conf"

# Every man page: no warning from groff at the strictest level (-ww), from
# man(1) when it is there, and the usual sections in the rendered text.
for page in "$mandir/man8/kadp.8" "$mandir/man8/kadpctl.8" "$mandir/man5/kadp.conf.5"; do
    [[ -f $page ]] || continue
    name=$(basename "$page")
    warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    [[ -z $warn ]] && ok "$name: groff -ww clean" || ko "$name: groff warnings: $warn"
    if command -v man >/dev/null; then
        warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
        [[ -z $warn ]] && ok "$name: man --warnings clean" || ko "$name: man warnings: $warn"
    fi
    text=$(groff -man -Tutf8 -P-cbou "$page" 2>/dev/null)
    missing=""
    for section in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
        grep -q "^$section\$" <<<"$text" || missing+=" $section"
    done
    [[ -z $missing ]] && ok "$name: renders NAME, SYNOPSIS, DESCRIPTION, SEE ALSO" || ko "$name: missing sections:$missing"
done

# kadp(8) lists every option kadp --help lists.
if [[ -x $sbindir/kadp && -f $mandir/man8/kadp.8 ]]; then
    text=$(groff -man -Tutf8 -P-cbou "$mandir/man8/kadp.8" 2>/dev/null)
    missing=""
    for o in $("$sbindir/kadp" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        grep -qF -- "$o" <<<"$text" || missing+=" $o"
    done
    [[ -z $missing ]] && ok "kadp.8 documents every option of kadp --help" || ko "kadp.8 lacks:$missing"
fi
# kadpctl(8) lists every command kadpctl --help lists.
if [[ -x $sbindir/kadpctl && -f $mandir/man8/kadpctl.8 ]]; then
    text=$(groff -man -Tutf8 -P-cbou "$mandir/man8/kadpctl.8" 2>/dev/null)
    missing=""
    for c in $("$sbindir/kadpctl" --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }'); do
        grep -qE "^ +$c( |\$)" <<<"$text" || missing+=" $c"
    done
    [[ -z $missing ]] && ok "kadpctl.8 documents every command of kadpctl --help" || ko "kadpctl.8 lacks:$missing"
fi

# The installed example is a valid configuration.
if [[ -x $sbindir/kadp ]]; then
    out=$("$sbindir/kadp" -t -f "$sysconfdir/kadp/keepalived.conf.example" 2>&1)
    rc=$?
    [[ $rc -eq 0 ]] && ok "kadp -t accepts the installed example" || ko "kadp -t on the example: exit $rc: $out"
fi

echo "COUNT $pass $fail 0"
[[ $fail -eq 0 ]]
