#!/usr/bin/env bash
# The layering check must be able to fail: a crypto file that includes a net
# header, and a wire file that includes <sqlite3.h>, must each be reported.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/crypto" "$tmp/wire" "$tmp/net"
printf '#include "net/link.h"\n' >"$tmp/crypto/a.c"
printf '#include <sqlite3.h>\n#include "crypto/x.h"\n' >"$tmp/wire/b.c"
printf '#include "wire/c.h"\n#include <uv.h>\n' >"$tmp/net/ok.c"
out=$(scripts/check-layering "$tmp" || true)
echo "$out"
echo "$out" | grep -q 'crypto/a.c:1: crypto (rank 1) may not include "net/link.h"'
echo "$out" | grep -q 'wire/b.c:1: <sqlite3.h> belongs to src/store only'
echo "$out" | grep -q '2 violations'
echo "layering self-test: ok"
