#!/usr/bin/env bash
# Many messages between two clients (issue 8: "blobs between two test
# clients, all delivered exactly once in order"), end to end through the
# CLI on a whole local network (testnet up --clients 2: alice at gw1, bob at
# gw2): alice queues N messages for bob and bob N/4 for alice, all at once,
# a few of them several fragments long (5 kB, 20 kB); every one must arrive
# exactly once, in the order it was sent, and every outgoing one must end
# acknowledged or further, none failed. The kills (client, gateway, mix)
# are tests/net/messaging-faults.sh.
#   tests/net/delivery.sh BUILD_DIR     (N = DELIVERY_N, default 100;
#                                        make soak-delivery: 2000)
# net-suites: gcc
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
net_init delivery delivery "$@"
N=${DELIVERY_N:-100}

# The texts a message i carries: most short, every 25th 5 kB, the 50th 20 kB.
text_of() {
	local who=$1 i=$2
	if [ $((i % 50)) -eq 0 ]; then
		python3 -c 'import sys; print((sys.argv[1] + "-") * 2000, end="")' "$who$i"
	elif [ $((i % 25)) -eq 0 ]; then
		python3 -c 'import sys; print((sys.argv[1] + "-") * 500, end="")' "$who$i"
	else
		printf '%s%d' "$who" "$i"
	fi
}

# inbox_is WHO CONTACT PREFIX COUNT: WHO's incoming rows from CONTACT are
# exactly PREFIX1..PREFIXCOUNT (the long ones by their repeated text), in order.
inbox_is() {
	at "$1" inbox --json --peek --contact "$2" 2>/dev/null | python3 -c '
import json, sys
who, n = sys.argv[1], int(sys.argv[2])
def want(i):
    t = "%s%d" % (who, i)
    return (t + "-") * 2000 if i % 50 == 0 else (t + "-") * 500 if i % 25 == 0 else t
got = [json.loads(l) for l in sys.stdin]
got = [r["text"] for r in got if r["dir"] == "in"]
exp = [want(i) for i in range(1, n + 1)]
if got == exp:
    sys.exit(0)
short = lambda t: t if len(t) < 40 else "%s..(%d)" % (t[:12], len(t))
print("got %d, want %d; first difference at %s" % (len(got), n,
      next((i for i, (a, b) in enumerate(zip(got, exp)) if a != b), min(len(got), n))),
      [short(t) for t in got[:5]], file=sys.stderr)
sys.exit(1)' "$3" "$4"
}

# outcome WHO: outgoing rows' states, counted.
outcome() {
	at "$1" inbox --json --peek 2>/dev/null | python3 -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["state"] for l in sys.stdin if json.loads(l)["dir"] == "out")
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))'
}

if ! "$BIN" testnet up --dir "$D" --clients 2 >"$W/up.log" 2>&1; then
	bad "testnet up --clients 2"; cat "$W/up.log"; exit 1
fi
ok "testnet up with alice at gw1 and bob at gw2"
CODE=$(at alice invite --name bob --no-qr) && at bob accept "$CODE" --name alice >/dev/null &&
	until_ok 60 contact_ready alice bob && until_ok 30 contact_ready bob alice &&
	ok "alice and bob are contacts" || { bad "contacts: $CODE"; exit 1; }

NB=$((N / 4))
for i in $(seq 1 "$N"); do
	text_of a "$i" | at alice send bob >/dev/null || bad "alice send $i"
	if [ "$i" -le "$NB" ]; then text_of b "$i" | at bob send alice >/dev/null || bad "bob send $i"; fi
done
ok "queued: $N messages alice -> bob, $NB bob -> alice"
T1=$(date +%s)
# The sending stream runs at 5/s on the test network; a 5 kB message is 3
# fragments, a 20 kB one 11: allow three times the pure sending time.
LIMIT=$(((N + N / 25 * 2 + N / 50 * 8) * 3 / 5 + 60))
until_ok "$LIMIT" inbox_is bob alice a "$N" && ok "bob has alice's $N messages, each once, in order ($(($(date +%s) - T1)) s)" ||
	{ inbox_is bob alice a "$N"; bad "bob's inbox after $LIMIT s"; }
until_ok 60 inbox_is alice bob b "$NB" && ok "alice has bob's $NB messages, each once, in order" ||
	{ inbox_is alice bob b "$NB"; bad "alice's inbox"; }
sleep 2
inbox_is bob alice a "$N" 2>/dev/null && inbox_is alice bob b "$NB" 2>/dev/null &&
	ok "still exactly once two seconds later (no late duplicates)" || bad "a late duplicate"
OA=$(outcome alice) OB=$(outcome bob)
say "alice's outgoing: $OA; bob's: $OB"
case " $OA $OB " in *failed=*) bad "messages failed" ;; *) ok "no message failed" ;; esac
case " $OA $OB " in *queued=* | *sent=*) bad "messages not acknowledged" ;; *) ok "every message acknowledged or further" ;; esac
at alice status --json >"$W/alice.status" 2>/dev/null &&
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
r, l = s["round_trip_ms"], s["loops"]
print("alice: %d round trips p50 %.0f p99 %.0f ms (predicted p99 %d); loops back %.3f, alarm %s" % (
    r["n"], r["p50"], r["p99"], r["predicted_p99"], l["window_ratio"], l["alarm"]))' "$W/alice.status"

say "delivery: $FAILS failures"
[ "$FAILS" -eq 0 ] && echo "delivery: all checks passed"
[ "$FAILS" -eq 0 ]
