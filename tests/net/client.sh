#!/usr/bin/env bash
# The client daemon on a whole local network (backchannel testnet: 3
# authorities, 2 mixes per layer, 2 gateways, 30 s epochs):
#   - a client registers at gw1, creates its reply queue, passes the clock
#     check, takes and verifies the consensus through the gateway, runs its
#     four streams, and its loops come back through the mixes
#   - `backchannel status` shows the link up, the epoch and the loops
#   - gw1 SIGKILLed and restarted: the client reconnects by itself
#   - a wrong passphrase, a gateway_key the gateway does not hold: one
#     line, exit status 1 (a gateway key missing from the consensus:
#     tests/unit/client_daemon.c)
#   tests/net/client.sh BUILD_DIR
set -u
B=${1:-build/gcc}
BIN=$(cd "$(dirname "$B/backchannel")" && pwd)/backchannel
[ -x "$BIN" ] || { echo "client: $BIN missing"; exit 1; }
W=$(mktemp -d /tmp/bc-client.XXXXXX)
D=$W/net
FAILS=0
T0=$(date +%s)
CPID=

cleanup() {
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null
	"$BIN" testnet down --dir "$D" >/dev/null 2>&1
	if [ -f "$D/testnet.state" ]; then
		awk '$1 != "#" && $1 != "authorities" {print $3}' "$D/testnet.state" |
			while read -r p; do kill -9 "$p" 2>/dev/null; done
	fi
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$W"; else echo "client: logs kept in $W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { echo "[$(($(date +%s) - T0))s] $*"; }
ok() { say "ok: $*"; }
bad() { say "FAIL: $*"; FAILS=$((FAILS + 1)); }

# The X25519 public key (base64) of a private key file, via openssl.
pubkey() {
	local raw
	raw=$(awk '$1 == "private" {print $2}' "$1" | base64 -d | xxd -p | tr -d '\n')
	printf '302e020100300506032b656e04220420%s' "$raw" | xxd -r -p |
		openssl pkey -inform DER -pubout -outform DER | tail -c 32 | base64
}

# json_get FIELD.SUB: from the last status answer
status_json() { "$BIN" status --socket "$W/c.sock" --json 2>/dev/null; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)" 2>/dev/null; }

if ! "$BIN" testnet up --dir "$D" >"$W/up.log" 2>&1; then
	bad "testnet up"; cat "$W/up.log"; exit 1
fi
ok "testnet up"
AUTH=$(awk '$1 == "authorities" {sub(/^authorities /, ""); print}' "$D/testnet.state")
GW=$(awk '$2 == "gw1" {print $4}' "$D/testnet.state")
GWKEY=$(pubkey "$D/gw1/link.key")
echo "a passphrase for the test" >"$W/pass"
cat >"$W/c.ini" <<INI
[client]
gateway = $GW
gateway_key = $GWKEY
authorities = $AUTH
store = $W/client.db
passphrase_file = $W/pass
control_socket = $W/c.sock
store_cost_mib = 8
log_level = info
INI

"$BIN" client --config "$W/c.ini" >"$W/client.log" 2>&1 &
CPID=$!
# Loops take a few seconds: fetches drain one item each.
for _ in $(seq 1 60); do
	sleep 1
	J=$(status_json)
	[ -n "$J" ] && [ "$(echo "$J" | jget "['loops']['back']")" -ge 1 ] 2>/dev/null && break
done
J=$(status_json)
[ "$(echo "$J" | jget "['gateway']['state']")" = ready ] && ok "client ready at gw1" || bad "client not ready: $J"
E=$(echo "$J" | jget "['consensus']['epoch']")
[ -n "$E" ] && [ "$E" -gt 0 ] && ok "consensus epoch $E verified through the gateway" || bad "no consensus: $J"
L=$(echo "$J" | jget "['loops']['back']")
[ -n "$L" ] && [ "$L" -ge 1 ] && ok "loops come back through the mixes ($L)" || bad "no loop came back: $J"
"$BIN" status --socket "$W/c.sock" >"$W/status.txt" 2>&1 && grep -q "gateway link:   up (ready)" "$W/status.txt" &&
	ok "backchannel status: $(grep 'loop returns' "$W/status.txt" | tr -s ' ')" || bad "backchannel status: $(cat "$W/status.txt")"

# gw1 crashes and comes back: the client reconnects by itself.
"$BIN" testnet stop --dir "$D" --name gw1 --sigkill >/dev/null 2>&1
sleep 2
"$BIN" testnet start --dir "$D" --name gw1 >/dev/null 2>&1
for _ in $(seq 1 60); do
	sleep 1
	J=$(status_json)
	C=$(echo "$J" | jget "['gateway']['connects']")
	S=$(echo "$J" | jget "['gateway']['state']")
	[ "${C:-0}" -ge 2 ] && [ "$S" = ready ] && break
done
[ "${C:-0}" -ge 2 ] && [ "$S" = ready ] && ok "reconnected after gw1 restart ($C connects)" || bad "no reconnect: $J"
# A consensus is logged once: not again on reconnection, nor on each 3 s
# retry at an epoch's start while the gateway still serves the old one.
once_each() {
	grep -q 'client: consensus of epoch [0-9]*,' "$W/client.log" &&
		[ -z "$(grep -o 'client: consensus of epoch [0-9]*,' "$W/client.log" | sort | uniq -d)" ]
}
once_each && ok "each consensus logged once" || bad "a consensus logged twice: $(grep 'consensus of epoch' "$W/client.log")"
kill -INT "$CPID"; wait "$CPID"; RC=$?; CPID=
[ "$RC" -eq 0 ] && ok "client stops cleanly on SIGINT" || bad "client exit $RC"

# Bad input: one line, exit 1, nothing damaged.
echo "not the passphrase" >"$W/pass"
OUT=$("$BIN" client --config "$W/c.ini" 2>&1); RC=$?
[ "$RC" -eq 1 ] && [ "$(echo "$OUT" | wc -l)" -eq 1 ] && echo "$OUT" | grep -q "wrong passphrase" &&
	ok "wrong passphrase: $OUT" || bad "wrong passphrase: rc $RC: $OUT"
# A gateway_key that is not gw1's (gw2's): the handshake cannot succeed.
echo "a passphrase for the test" >"$W/pass"
sed -i "s|^gateway_key = .*|gateway_key = $(pubkey "$D/gw2/link.key")|" "$W/c.ini"
OUT=$(timeout 60 "$BIN" client --config "$W/c.ini" 2>&1 >/dev/null | grep -v ' \[')
echo "$OUT" | grep -q "does not hold the configured gateway_key" &&
	ok "wrong gateway_key: $OUT" || bad "wrong gateway_key: $OUT"

say "client: $FAILS failures"
[ "$FAILS" -eq 0 ] && echo "client: all checks passed"
[ "$FAILS" -eq 0 ]
