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
. "$(dirname "$0")/lib/common.sh" || exit 1
net_init client client "$@"
CPID=
on_cleanup() { [ -n "$CPID" ] && kill "$CPID" 2>/dev/null; }

status_json() { "$BIN" status --socket "$W/c.sock" --json 2>/dev/null; }

if ! "$BIN" testnet up --dir "$D" >"$W/up.log" 2>&1; then
	bad "testnet up"; cat "$W/up.log"; exit 1
fi
ok "testnet up"
echo "a passphrase for the test" >"$W/c.pass"
client_ini gw1 "$W/c" >"$W/c.ini"

"$BIN" client --config "$W/c.ini" >"$W/client.log" 2>&1 &
CPID=$!
# Loops take a few seconds: fetches drain one item each.
for _ in $(seq 1 60); do
	sleep 1
	J=$(status_json)
	[ -n "$J" ] && [ "$(echo "$J" | py "j['loops']['back']")" -ge 1 ] 2>/dev/null && break
done
J=$(status_json)
[ "$(echo "$J" | py "j['gateway']['state']")" = ready ] && ok "client ready at gw1" || bad "client not ready: $J"
E=$(echo "$J" | py "j['consensus']['epoch']")
[ -n "$E" ] && [ "$E" -gt 0 ] && ok "consensus epoch $E verified through the gateway" || bad "no consensus: $J"
L=$(echo "$J" | py "j['loops']['back']")
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
	C=$(echo "$J" | py "j['gateway']['connects']")
	S=$(echo "$J" | py "j['gateway']['state']")
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
echo "not the passphrase" >"$W/c.pass"
OUT=$("$BIN" client --config "$W/c.ini" 2>&1); RC=$?
[ "$RC" -eq 1 ] && [ "$(echo "$OUT" | wc -l)" -eq 1 ] && echo "$OUT" | grep -q "wrong passphrase" &&
	ok "wrong passphrase: $OUT" || bad "wrong passphrase: rc $RC: $OUT"
# A gateway_key that is not gw1's (gw2's): the handshake cannot succeed.
echo "a passphrase for the test" >"$W/c.pass"
sed -i "s|^gateway_key = .*|gateway_key = $(pubkey "$D/gw2/link.key")|" "$W/c.ini"
OUT=$(timeout 60 "$BIN" client --config "$W/c.ini" 2>&1 >/dev/null | grep -v ' \[')
echo "$OUT" | grep -q "does not hold the configured gateway_key" &&
	ok "wrong gateway_key: $OUT" || bad "wrong gateway_key: $OUT"

say "client: $FAILS failures"
[ "$FAILS" -eq 0 ] && echo "client: all checks passed"
[ "$FAILS" -eq 0 ]
