#!/usr/bin/env bash
# A whole mix network on 127.0.0.1 (backchannel testnet: 3 authorities,
# 2 mixes per layer, 2 gateways, 30 s epochs) under test:
#   - bad config: one line naming the key, exit 2; a key file others can
#     read: refused
#   - packets injected at gw1 cross 3 layers and reach gw2's sink, every one
#   - replays rejected, also after SIGKILL and restart of gw1 in the epoch
#   - garbage and bit-flipped packets dropped and counted, none delivered
#   - an epoch rollover under traffic loses nothing
#   - a flood of full-size random packets at a mix (20 s here; SOAK=60 for
#     the minute-long version, `make soak`): no crash, memory under its
#     cap, real packets through that mix still delivered (at least 90
#     percent: the flooding link gets only its share of the inbox; counted
#     once they have arrived, not after a fixed time: see settle_sink)
#   - one mix SIGKILLed: the others keep running, routes through it fail
#     visibly in the metrics, routes around it still deliver
#   - down: everything stops cleanly
#   tests/net/mixnet.sh BUILD_DIR
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
net_init mixnet mixnet "$@"
FLOOD_S=${SOAK:-20}
on_cleanup() { [ -n "${BG:-}" ] && kill "$BG" 2>/dev/null; }
# sum of a metric over every node
metric_all() {
	local s=0 n v
	for n in $(awk '$1 == "mix" || $1 == "gateway" {print $2}' "$D/testnet.state"); do
		v=$(metric "$n" "$1")
		s=$(awk -v a="$s" -v b="${v:-0}" 'BEGIN {print a + b}')
	done
	echo "$s"
}
# wait_metric NODE NAME VALUE SECONDS: until the metric reaches VALUE
wait_metric() {
	local end=$(($(date +%s) + $4)) v
	while :; do
		v=$(metric "$1" "$2")
		awk -v a="$v" -v b="$3" 'BEGIN {exit !(a >= b)}' && return 0
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.5
	done
}
inject() { "$BIN" testnet inject --dir "$D" "$@" >>"$W/inject.log" 2>&1; }
hexid() { echo "$1" | base64 -d | od -An -tx1 | tr -d ' \n' | cut -c1-16; }
drops() { metric_all "bc_packets_dropped_total{reason=\"$1\"}"; }

# --- configuration errors ------------------------------------------------
mkdir -p "$W/bad"
printf '[node]\ndata_dir = %s/bad\nlisten = 127.0.0.1:1\nauthorities = x\n' "$W" >"$W/bad.ini"
out=$("$BIN" node --config "$W/bad.ini" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "role: missing"; then
	ok "missing key: one line naming it, exit 2 ($out)"
else bad "missing key: rc $rc, '$out'"; fi
printf '[node]\nrole = mix\ndata_dir = %s/bad\nlisten = 127.0.0.1:1\nauthorities = x\nworkers = 99\n' "$W" >"$W/bad.ini"
out=$("$BIN" node --config "$W/bad.ini" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && echo "$out" | grep -q "workers: 99 is out of range"; then
	ok "invalid key: named, exit 2"
else bad "invalid key: rc $rc, '$out'"; fi

# --- up ------------------------------------------------------------------
say "starting the network"
if ! "$BIN" testnet up --dir "$D" >"$W/up.log" 2>&1; then
	cat "$W/up.log"
	bad "testnet up"
	exit 1
fi
ok "testnet up: $(grep -c -E ' (mix|gateway|authority) ' "$W/up.log") processes, consensus and links"
"$BIN" testnet status --dir "$D" >"$W/status.log" 2>&1 && ok "status: all up" || bad "status"

# A key file others can read is refused (a copy of gw2's config and keys).
cp -r "$D/gw2" "$W/leaky"
chmod 644 "$W/leaky/link.key"
sed -e "s|^data_dir = .*|data_dir = $W/leaky|" -e "s|^metrics_listen = .*|metrics_listen =|" \
	-e "s|^listen = .*|listen = 127.0.0.1:1|" "$D/gw2.ini" >"$W/leaky.ini"
out=$(timeout 10 "$BIN" node --config "$W/leaky.ini" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && echo "$out" | grep -qi "read"; then ok "group/other-readable key file refused"
else bad "leaky key file: rc $rc: $out"; fi

# --- end to end -----------------------------------------------------------
inject --from gw1 --to gw2 --count 200 --save "$W/saved.bin"
if wait_metric gw2 bc_sink_packets_total 200 15; then
	ok "200 of 200 packets from gw1 crossed 3 layers into gw2's sink"
else bad "end to end: $(metric gw2 bc_sink_packets_total) of 200 arrived"; fi
SINK=$(metric gw2 bc_sink_packets_total)

# --- replays --------------------------------------------------------------
# Waiting for the count, not a fixed time (a starved gw1 takes longer than
# 2 s): once gw1 has rejected all 200, none is left that could arrive.
inject --from gw1 --replay "$W/saved.bin"
wait_metric gw1 'bc_packets_dropped_total{reason="replay"}' 200 30
R=$(metric gw1 'bc_packets_dropped_total{reason="replay"}')
[ "$R" = 200 ] && [ "$(metric gw2 bc_sink_packets_total)" = "$SINK" ] &&
	ok "200 replays rejected at gw1, none delivered" || bad "replays: $R rejected, sink $(metric gw2 bc_sink_packets_total)"

"$BIN" testnet stop --dir "$D" --name gw1 --sigkill >/dev/null
"$BIN" testnet start --dir "$D" --name gw1 >/dev/null
wait_metric gw1 bc_links_open 7 30 || bad "gw1 restart: links not back"
inject --from gw1 --replay "$W/saved.bin"
wait_metric gw1 'bc_packets_dropped_total{reason="replay"}' 200 30
R=$(metric gw1 'bc_packets_dropped_total{reason="replay"}')
[ "$R" = 200 ] && [ "$(metric gw2 bc_sink_packets_total)" = "$SINK" ] &&
	ok "after SIGKILL and restart of gw1: 200 replays rejected" || bad "replays after restart: $R rejected"

# --- garbage and bit flips -----------------------------------------------
M0=$(drops mac)
F0=$(drops malformed)
inject --from gw1 --garbage --count 50
inject --from gw1 --to gw2 --flip --count 50
# Until all 100 are counted (30 s at most): none is then left in flight.
end=$(($(date +%s) + 30))
while :; do
	M1=$(drops mac)
	F1=$(drops malformed)
	N=$(awk -v a="$M0" -v b="$F0" -v c="$M1" -v d="$F1" 'BEGIN {print c + d - a - b}')
	[ "$N" -ge 100 ] || [ "$(date +%s)" -ge "$end" ] && break
	sleep 0.5
done
if [ "$N" = 100 ] && [ "$(metric gw2 bc_sink_packets_total)" = "$SINK" ]; then
	ok "50 garbage + 50 bit-flipped packets: all 100 dropped and counted, none delivered"
else bad "garbage/flips: $N of 100 counted, sink $(metric gw2 bc_sink_packets_total) (was $SINK)"; fi

# --- epoch rollover under traffic -----------------------------------------
G=$(awk '$1 == "genesis" {print $3}' "$D/gw1.ini")
E=$(awk '$1 == "epoch_length" {print $3}' "$D/gw1.ini" | tr -d s)
NOW=$(date +%s)
NEXT=$((G + ((NOW - G) / E + 1) * E))
[ $((NEXT - NOW)) -lt 4 ] && NEXT=$((NEXT + E))
sleep $((NEXT - NOW - 3))
SINK=$(metric gw2 bc_sink_packets_total)
SENT=0
for i in $(seq 1 12); do
	inject --from gw1 --to gw2 --count 20 && SENT=$((SENT + 20))
	sleep 0.5
done
if wait_metric gw2 bc_sink_packets_total $((SINK + SENT)) 15 && [ "$SENT" -eq 240 ]; then
	ok "epoch rollover at $NEXT under traffic: $SENT of $SENT delivered"
else bad "rollover: $(($(metric gw2 bc_sink_packets_total) - SINK)) of $SENT delivered"; fi

# --- flood of random full-size packets at a mix ---------------------------
FL=mix3
FLPID=$(field $FL 3)
say "flooding $FL with random packets for ${FLOOD_S}s"
inject --from $FL --as mix4 --garbage --duration "$FLOOD_S" &
BG=$!
sleep 2
SINK=$(metric gw2 bc_sink_packets_total)
REAL=0
MAXRSS=0
for i in $(seq 1 $((FLOOD_S / 2 - 2))); do
	inject --from gw1 --to gw2 --via $FL --count 10 && REAL=$((REAL + 10))
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$FLPID/status" 2>/dev/null)
	[ "${rss:-0}" -gt "$MAXRSS" ] && MAXRSS=$rss
	sleep 1
done
wait "$BG"
BG=
sleep 3
LATE0=$(($(metric gw2 bc_sink_packets_total) - SINK))
# Delivered, not delivered within a fixed time: a real packet waits behind
# the flood's share of the inbox (half of its 1024 slots), which drains only
# as fast as the mix gets the CPU; on a starved machine (benchmarks at nice
# -20 beside the test) that takes longer than 3 s, and the check once counted
# 59 of 80 while the rest were still queued. Wait until all arrived, or
# nothing more came for 5 s with the mix's inbox and delay queue empty (60 s
# at most; a mix too starved to answer its metrics is not taken as empty).
queued() { # queued NODE: packets in its inbox and delay queue, or nothing
	curl -s --max-time 3 "$(murl "$1")" |
		awk '$1 == "bc_inbox_depth" || $1 == "bc_delay_queue_depth" {s += $2; n++}
			END {if (n == 2) print s}'
}
settle_sink() { # settle_sink TARGET
	local end=$(($(date +%s) + 60)) last=-1 still=0 v
	while [ "$(date +%s)" -lt "$end" ]; do
		v=$(metric gw2 bc_sink_packets_total)
		[ "${v:-0}" -ge "$1" ] && return 0
		if [ "$v" = "$last" ] && [ "$(queued $FL)" = 0 ]; then
			still=$((still + 1))
			[ "$still" -ge 10 ] && return 1
		else
			still=0
		fi
		last=$v
		sleep 0.5
	done
	return 1
}
settle_sink $((SINK + REAL))
GOT=$(($(metric gw2 bc_sink_packets_total) - SINK))
OVER=$(metric $FL 'bc_packets_dropped_total{reason="overload"}')
GARB=$(metric $FL 'bc_packets_dropped_total{reason="mac"}')
say "flood: $FL dropped $GARB random packets as invalid, $OVER for overload; max RSS ${MAXRSS} kB; $GOT of $REAL real packets delivered ($LATE0 within 3 s of the flood's end)"
kill -0 "$FLPID" 2>/dev/null && ok "$FL survived the flood" || bad "$FL died in the flood"
# Cap: delay queue 20000 x (3082 + 128) + inbox + links, well under 256 MiB.
[ "$MAXRSS" -gt 0 ] && [ "$MAXRSS" -lt 262144 ] && ok "$FL memory under its cap (${MAXRSS} kB < 256 MiB)" || bad "memory: ${MAXRSS} kB"
[ "$GOT" -gt 0 ] && [ $((GOT * 10)) -ge $((REAL * 9)) ] && ok "real packets through $FL delivered during the flood: $GOT of $REAL" || bad "flood: $GOT of $REAL real packets delivered"

# --- one mix killed ------------------------------------------------------
K=mix1
LABEL=$(hexid "$(field $K 7)")
"$BIN" testnet stop --dir "$D" --name $K --sigkill >/dev/null
sleep 1
SINK=$(metric gw2 bc_sink_packets_total)
inject --from gw1 --to gw2 --via $K --count 30
inject --from gw1 --to gw2 --avoid $K --count 30
# Until both counts are in (30 s at most), then a second for any extra.
end=$(($(date +%s) + 30))
while :; do
	FAILED=$(metric_all "bc_next_hop_failures_total{hop=\"$LABEL\"}")
	GOT=$(($(metric gw2 bc_sink_packets_total) - SINK))
	awk -v f="$FAILED" 'BEGIN {exit !(f >= 30)}' && [ "$GOT" -ge 30 ] && break
	[ "$(date +%s)" -ge "$end" ] && break
	sleep 0.5
done
sleep 1
FAILED=$(metric_all "bc_next_hop_failures_total{hop=\"$LABEL\"}")
GOT=$(($(metric gw2 bc_sink_packets_total) - SINK))
UP=$("$BIN" testnet status --dir "$D" | awk '/processes up/ {print $2}')
[ "$UP" = 10 ] && ok "after SIGKILL of $K the other 10 processes keep running" || bad "$UP processes up"
awk -v f="$FAILED" 'BEGIN {exit !(f >= 30)}' && ok "routes through $K fail visibly: bc_next_hop_failures_total{hop=\"$LABEL\"} = $FAILED" ||
	bad "failures through $K: $FAILED"
[ "$GOT" = 30 ] && ok "routes around $K: 30 of 30 delivered" || bad "routes around $K: $GOT of 30"

# --- down ----------------------------------------------------------------
if "$BIN" testnet down --dir "$D" | grep -q cleanly; then ok "down: every process stopped cleanly"
else bad "down"; fi
grep -h "stopped cleanly" "$D"/*.log | wc -l | grep -q . || true
if grep -l -E "AddressSanitizer|runtime error" "$D"/*.log >/dev/null 2>&1; then bad "sanitizer reports in logs"; fi

say "mixnet: $FAILS failures"
[ "$FAILS" -eq 0 ] && echo "mixnet: all checks passed" && exit 0
exit 1
