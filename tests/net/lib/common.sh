# Shared by the network tests (tests/net/*.sh); sourced, never run: it lives
# below tests/net/ so that scripts/test, which runs every executable
# tests/net/*.sh, does not take it for a test. A test starts with
#
#   . "$(dirname "$0")/lib/common.sh" || exit 1
#   net_init NAME TMPNAME "$@"
#
# and may define on_cleanup (stop its own background processes), called
# first on exit. net_init sets the globals everything here reads: B (build
# dir), BIN (the binary, absolute), W (the work dir /tmp/bc-TMPNAME.XXXXXX),
# D (the testnet dir, $W/net), FAILS and T0. In here: the exit trap,
# say/ok/bad/check, until_ok, py (a field of JSON such as a status answer),
# field (a column of the testnet state file), metric (a Prometheus value of
# a node), pubkey, client_ini, and at/contact_ready for the clients of
# `testnet up --clients N`.
# shellcheck shell=bash

# net_init NAME TMPNAME BUILD_DIR: the globals above, and the exit trap.
net_init() {
	NET_NAME=$1
	B=${3:-build/gcc}
	BIN=$(cd "$(dirname "$B/backchannel")" && pwd)/backchannel
	[ -x "$BIN" ] || { echo "$NET_NAME: $BIN missing"; exit 1; }
	W=$(mktemp -d "/tmp/bc-$2.XXXXXX")
	D=$W/net
	FAILS=0
	T0=$(date +%s)
	trap net_cleanup EXIT
	trap 'exit 1' INT TERM
}

# On every exit: the test's own on_cleanup, the test network down (and
# anything of it still running killed), the work dir removed unless a check
# failed or KEEP is set.
net_cleanup() {
	if declare -F on_cleanup >/dev/null; then on_cleanup; fi
	if [ -d "$D" ]; then
		"$BIN" testnet down --dir "$D" >/dev/null 2>&1
		if [ -f "$D/testnet.state" ]; then
			awk '$1 != "#" && $1 != "authorities" {print $3}' "$D/testnet.state" |
				while read -r p; do kill -9 "$p" 2>/dev/null; done
		fi
	fi
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$W"; else echo "$NET_NAME: logs kept in $W"; fi
}

say() { echo "[$(($(date +%s) - T0))s] $*"; }
ok() { say "ok: $*"; }
bad() { say "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

# until_ok SECONDS CMD...: poll every UNTIL_STEP seconds (default 1) until
# CMD succeeds; 1 if it never did.
until_ok() {
	local end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep "${UNTIL_STEP:-1}"
	done
	return 1
}

# py EXPR: EXPR evaluated with j = the JSON on stdin (a status answer, ...).
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" 2>/dev/null; }

# --- the test network (backchannel testnet, its state file) ---------------
# field NAME COLUMN: a column of NAME's line in the state file (4: link
# address, 5: metrics address, 7: identity).
field() { awk -v n="$1" -v c="$2" '$2 == n {print $c}' "$D/testnet.state"; }
# The authorities line of the state file, as a config value.
testnet_authorities() { awk '$1 == "authorities" {sub(/^authorities /, ""); print}' "$D/testnet.state"; }
# net_warnings: the last warnings and errors of the network's daemons.
net_warnings() {
	echo "$NET_NAME: last warnings of the daemons:"
	grep -h -E '\[(warn|err)\]' "$D"/*.log 2>/dev/null | tail -15
}

# metric NODE NAME-WITH-LABELS: its value on NODE's /metrics (0 if absent
# or down).
murl() { echo "http://$(field "$1" 5)/metrics"; }
metric() {
	curl -s --max-time 3 "$(murl "$1")" | awk -v m="$2" '$1 == m {print $2; f=1} END {if (!f) print 0}'
}

# The X25519 public key (base64) of a private key file, via openssl.
pubkey() {
	local raw
	raw=$(awk '$1 == "private" {print $2}' "$1" | base64 -d | xxd -p | tr -d '\n')
	printf '302e020100300506032b656e04220420%s' "$raw" | xxd -r -p |
		openssl pkey -inform DER -pubout -outform DER | tail -c 32 | base64
}

# --- clients of `testnet up --clients N` (alice, bob, ...) ----------------
# at WHO ARGS...: a CLI command on WHO's control socket.
at() { local who=$1; shift; "$BIN" "$@" --socket "$D/$who/client.sock"; }
# contact_ready WHO NAME: WHO's contact NAME is ready.
contact_ready() {
	at "$1" contacts --json | python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin)["contacts"] if c["name"] == sys.argv[1]]
sys.exit(0 if c and c[0]["state"] == "ready" else 1)' "$2"
}

# client_ini GW FILES [NAME]: on stdout, the config of a client at testnet
# gateway GW (gw1, gw2, ...) whose store, passphrase file and control socket
# are FILES.db, FILES.pass and FILES.sock.
client_ini() {
	cat <<INI
[client]
gateway = $(field "$1" 4)
gateway_key = $(pubkey "$D/$1/link.key")
authorities = $(testnet_authorities)
store = $2.db
passphrase_file = $2.pass
control_socket = $2.sock
store_cost_mib = 8
log_level = info
INI
	if [ -n "${3:-}" ]; then echo "name = $3"; fi
}
