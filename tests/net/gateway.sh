#!/usr/bin/env bash
# Gateways end to end (docs/gateway.md) on a whole test network: a test
# client (backchannel gateway-probe) registers at gw2 and creates a queue,
# another registers at gw1; messages cross gw1, three mix layers and gw2,
# where the receiver fetches and confirms them; every message's
# acknowledgement and every echo from gw2's echo service comes back to the
# sender's reply queue at gw1, decrypted with its reply block's token. Then
# gw2 is killed with SIGKILL, started again, and the same works again.
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
net_init gateway gateway "$@"
on_cleanup() { [ "$FAILS" -gt 0 ] && net_warnings; }

say "starting the network"
if ! "$BIN" testnet up --dir "$D" >"$W/up.log" 2>&1; then
	bad "testnet up: $(tail -3 "$W/up.log")"
	exit 1
fi
ok "testnet up"

probe() {
	timeout 90 "$BIN" gateway-probe --dir "$D" --from gw1 --to gw2 --count 20 --echo 20 >"$W/probe.log" 2>&1
}
if probe; then ok "$(grep '^probe:' "$W/probe.log")"
else bad "probe: $(tail -3 "$W/probe.log")"; fi
[ "$(metric gw2 bc_gateway_acked_total)" = 20 ] && [ "$(metric gw2 bc_gateway_echoed_total)" = 20 ] &&
	ok "gw2 counted 20 acknowledgements after commit and 20 echoes" ||
	bad "gw2 metrics: acked $(metric gw2 bc_gateway_acked_total), echoed $(metric gw2 bc_gateway_echoed_total)"

# A mix whose link to gw2 broke drops what it has for gw2 until its link is
# back (reconnect with backoff up to 5 s; clients retransmit, this probe does
# not): wait until every node has as many links open as before the kill.
NODES=$(awk '$1 != "#" && $1 != "authorities" && $2 ~ /^(mix|gw)/ {print $2}' "$D/testnet.state")
declare -A LINKS
for n in $NODES; do LINKS[$n]=$(metric "$n" bc_links_open); done
"$BIN" testnet stop --dir "$D" --name gw2 --sigkill >/dev/null
"$BIN" testnet start --dir "$D" --name gw2 >/dev/null
back=0
for _ in $(seq 1 60); do
	back=1
	for n in $NODES; do
		[ "$(metric "$n" bc_links_open)" -ge "${LINKS[$n]}" ] 2>/dev/null || back=0
	done
	[ "$back" = 1 ] && break
	sleep 1
done
[ "$back" = 1 ] && ok "every link back after gw2's restart" || bad "links not back after 60 s"
if probe; then ok "after SIGKILL and restart of gw2: $(grep '^probe:' "$W/probe.log")"
else bad "after restart: $(tail -3 "$W/probe.log")"; fi

"$BIN" testnet down --dir "$D" >"$W/down.log" 2>&1 && ok "down" || bad "down: $(tail -2 "$W/down.log")"
say "gateway: $FAILS failures"
[ "$FAILS" -eq 0 ]
