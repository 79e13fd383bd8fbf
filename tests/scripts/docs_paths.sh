#!/bin/bash
# Runs on: the test host (no root, no build, no network). Proves that the
# files the documentation names exist, so a doc that names a file renamed or
# removed fails here instead of misleading a reader.
#
# README.md and docs/*.md, each backticked word (`...`, without spaces; an
# anchor `#...` and a trailing `:LINE` dropped):
#   * a word with a `/` that starts with a top folder of the repository
#     (conf/, control/, dataplane/, docs/, tests/, ...) must exist from the
#     repository's root (a file or a folder); `NAME.{h,cpp}` names both;
#   * a bare `NAME.md` must be docs/NAME.md (docs name each other so);
#   * a bare source file name (`NAME.cpp`, `NAME.h`, `NAME.sh`, `NAME.py`)
#     must be the name of a file somewhere in the tree.
# Their Markdown links `[text](target)` that are not URLs must exist from the
# linking file's folder, and a `#section` must be a heading of the target.
# man/*: the repository paths they name (docs/..., tests/...) must exist.
# Left alone: system paths (/etc/..., /run/...), build outputs (build/...,
# the test binaries tests/unit/unit_*), placeholders (PREFIX/..., NAME,
# FILE), globs, and DPDK's own tools (dpdk-*.py).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT" || exit 1

pass=0 fail=0
DOCS=(README.md docs/*.md)
declare -A TOP NAME
for t in *; do [[ -e $t && $t != build* ]] && TOP[$t]=1; done  # build folders are outputs
# Every file name of the tree (build folders left out), for bare names.
while IFS= read -r f; do NAME[${f##*/}]=1; done < <(git ls-files 2>/dev/null || find . -path './build*' -prune -o -type f -print)

missing=()
checked=0
check_word() {  # DOC WORD
  local doc=$1 w=$2 stem rest alts ext
  w=${w%%#*}
  [[ $w =~ ^(.*):[0-9]+(-[0-9]+)?$ ]] && w=${BASH_REMATCH[1]}
  w=${w%/}
  w=${w%[.,;:)]}
  [ -n "$w" ] || return 0
  case $w in
    *'*'* | *'?'* | *'['* | *'$'* | *'<'* | *'...'*) return 0 ;;       # globs, variables, prose
    *NAME* | *FILE* | *PREFIX* | *PATH*) return 0 ;;                      # placeholders: fuzz_NAME.cpp
    dpdk-*) return 0 ;;                                                  # DPDK's own tools
    tests/unit/unit_*) return 0 ;;                                       # test binaries (ninja targets)
    *'{'*'}'*)                                                           # vrrp/instance.{h,cpp}
      stem=${w%%\{*} rest=${w#*\{}
      alts=${rest%%\}*}
      for ext in ${alts//,/ }; do check_word "$doc" "$stem$ext${rest#*\}}"; done
      return 0 ;;
  esac
  checked=$((checked + 1))
  if [[ $w == */* ]]; then
    [[ $w == /* || $w == .* || $w == ~* ]] && return 0                 # system paths, relative to something else
    [ -n "${TOP[${w%%/*}]:-}" ] || return 0                             # build/kadp, net/netfilter/...: not ours
    [ -e "$w" ] || missing+=("$doc: \`$w\`")
    return 0
  fi
  case $w in
    *.md) [ -e "docs/$w" ] || [ -e "$w" ] || missing+=("$doc: \`$w\` (no docs/$w)") ;;
    *.cpp | *.h | *.sh | *.py) [ -n "${NAME[$w]:-}" ] || missing+=("$doc: \`$w\` (no file of that name)") ;;
  esac
  return 0
}

# The anchors of a Markdown file's headings, as GitHub makes them: lower
# case, punctuation but `-` and `_` dropped, spaces to `-`.
anchors() {
  sed -n 's/^#\{1,6\} \{1,\}//p' "$1" | tr '[:upper:]' '[:lower:]' | sed -e 's/[^a-z0-9 _-]//g' -e 's/ /-/g'
}

for doc in "${DOCS[@]}"; do
  [ -f "$doc" ] || continue
  # shellcheck disable=SC2016  # the backticks are literal
  while IFS= read -r w; do
    check_word "$doc" "${w//\`/}"
  done < <(grep -oE '`[^` ]+`' "$doc")
  # Relative Markdown links, from the linking file's folder; a #section
  # of a Markdown file must be one of its headings.
  dir=$(dirname "$doc")
  while IFS= read -r target; do
    target=${target#](} target=${target%)}
    file=${target%%#*} anchor=
    [[ $target == *#* ]] && anchor=${target#*#}
    case $target in http:* | https:* | mailto:*) continue ;; esac
    [ -n "$file" ] || file=${doc#"$dir"/}
    checked=$((checked + 1))
    if [ ! -e "$dir/$file" ]; then
      missing+=("$doc: link ($target)")
    elif [ -n "$anchor" ] && [[ $file == *.md ]] && ! anchors "$dir/$file" | grep -qxF -- "$anchor"; then
      missing+=("$doc: link ($target): no such section in $file")
    fi
  done < <(grep -oE '\]\([^) ]+\)' "$doc")
done
# man pages: the repository paths they name (docs/..., tests/...).
for doc in man/*; do
  [ -f "$doc" ] || continue
  while IFS= read -r w; do
    check_word "$doc" "${w//\\/}"
  done < <(grep -oE '(^|[^A-Za-z0-9_/])(docs|conf|control|dataplane|vrrp|checks|tests|scripts|dist|examples|perf)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' "$doc" | sed -E 's#^[^a-z]##')
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "PASS: every file named in README.md, docs/*.md and man/* exists ($checked names and links checked)"
  pass=1
else
  for m in "${missing[@]}"; do echo "FAIL: missing: $m"; done
  fail=${#missing[@]}
fi
echo "COUNT $pass $fail 0"
[ "$fail" -eq 0 ]
