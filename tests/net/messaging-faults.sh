#!/usr/bin/env bash
# Messaging under faults, end to end through the CLI (backchannel invite,
# accept, send, inbox) on a whole local network with two clients (testnet up
# --clients 2: alice at gw1, bob at gw2):
#   1. bob offline: alice's messages are acknowledged (stored at gw2), not
#      delivered; bob comes back and gets every one
#   2. alice SIGKILLed right after queueing: the messages are delivered after
#      her restart
#   3. gw2 SIGKILLed while a 20 kB message is crossing: nothing acknowledged
#      is lost, the message arrives whole
#   4. one mix SIGKILLed (and left down): every message still arrives
#   5. each message shown exactly once, in order (inbox, and inbox --follow)
#   6. the CLI's other paths: receipts off, block, and its one-line errors
#   tests/net/messaging-faults.sh BUILD_DIR
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
net_init messaging-faults msgfaults "$@"
FPID=
on_cleanup() { [ -n "$FPID" ] && kill "$FPID" 2>/dev/null; }
UNTIL_STEP=0.5 # until_ok polls every half second
tn() { "$BIN" testnet "$@" --dir "$D" >>"$W/testnet.log" 2>&1; }

# rows WHO: the conversation as JSON rows (inbox --json --peek), in order.
rows() { at "$1" inbox --json --peek 2>/dev/null; }

# texts WHO DIR CONTACT: the texts of DIR (in|out) rows with CONTACT, one a line.
texts() {
	rows "$1" | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["dir"] == sys.argv[1] and r["contact"] == sys.argv[2]:
        print(r["text"] if len(r["text"]) < 100 else "big:%d" % len(r["text"]))' "$2" "$3"
}

# has WHO CONTACT TEXT...: every TEXT received by WHO from CONTACT.
has() {
	local who=$1 c=$2 got t
	shift 2
	got=$(texts "$who" in "$c") || return 1
	for t in "$@"; do grep -qxF -- "$t" <<<"$got" || return 1; done
}

# states WHO STATE...: every outgoing row of WHO is in one of the STATEs.
states() {
	rows "$1" | python3 -c '
import json, sys
out = [json.loads(l) for l in sys.stdin]
out = [r for r in out if r["dir"] == "out"]
sys.exit(0 if out and all(r["state"] in sys.argv[1:] for r in out) else 1)' "${@:2}"
}

if ! "$BIN" testnet up --dir "$D" --clients 2 >"$W/up.log" 2>&1; then
	bad "testnet up --clients 2"; cat "$W/up.log"; exit 1
fi
ok "testnet up with alice at gw1 and bob at gw2"
"$BIN" testnet status --dir "$D" >"$W/status.txt" 2>&1
grep -Eq '^alice +client +[0-9]+ +up +ready +at gw1' "$W/status.txt" &&
	grep -Eq '^bob +client +[0-9]+ +up +ready +at gw2' "$W/status.txt" &&
	ok "testnet status: alice and bob ready" || bad "testnet status: $(cat "$W/status.txt")"
CODE=$(at alice invite --name bob --no-qr) && at bob accept "$CODE" --name alice >/dev/null &&
	until_ok 60 contact_ready alice bob && until_ok 30 contact_ready bob alice &&
	ok "alice and bob are contacts (invite, accept)" || { bad "contacts: $CODE"; exit 1; }
# The inviter can send once the acceptor's first message has arrived (the
# Double Ratchet's Bob; docs/e2e.md): until then alice's messages wait as
# queued. bob's m0 shows that moment, before bob goes offline.
at bob send alice m0 >/dev/null || bad "send m0"
until_ok 60 has alice bob m0 && ok "bob's first message m0 reached alice" || bad "m0 did not reach alice"

# 1. The recipient offline.
tn stop --name bob
for i in 1 2 3; do at alice send bob "m$i" >/dev/null || bad "send m$i"; done
until_ok 60 states alice acknowledged && ok "bob offline: m1-m3 acknowledged (stored at gw2)" ||
	bad "bob offline: not acknowledged: $(rows alice)"
sleep 2
states alice acknowledged && ok "nothing delivered while bob is down" ||
	bad "delivered while bob was down: $(rows alice)"
tn start --name bob
until_ok 60 has bob alice m1 m2 m3 && ok "bob back: m1-m3 received" ||
	bad "bob back: $(texts bob in alice | tr '\n' ' ')"
until_ok 30 states alice delivered read && ok "alice sees m1-m3 delivered" ||
	bad "not delivered: $(rows alice)"

# 2. A client killed with queued messages.
for i in 4 5 6; do at alice send bob "m$i" >/dev/null || bad "send m$i"; done
tn stop --name alice --sigkill
tn start --name alice
until_ok 60 has bob alice m4 m5 m6 && ok "alice SIGKILLed with m4-m6 queued: delivered after restart" ||
	bad "after alice's restart: $(texts bob in alice | tr '\n' ' ')"

# 3. The recipient's gateway killed during a transfer.
python3 -c 'print("x" * 20000, end="")' | at alice send bob >/dev/null || bad "send 20 kB"
at alice send bob m8 >/dev/null || bad "send m8"
sleep 1
tn stop --name gw2 --sigkill
sleep 2
tn start --name gw2
until_ok 90 has bob alice big:20000 m8 && ok "gw2 SIGKILLed mid-transfer: the 20 kB message and m8 arrive" ||
	bad "after gw2's restart: $(texts bob in alice | tr '\n' ' ')"
BIG=$(rows bob | python3 -c '
import json, sys
print(sum(1 for l in sys.stdin if json.loads(l)["text"] == "x" * 20000))')
[ "$BIG" = 1 ] && ok "the 20 kB message arrived whole, once" || bad "20 kB message: $BIG whole copies"

# 4. One mix killed and left down; the follow view watches from here.
at bob inbox --follow --json --peek --contact alice >"$W/follow.jsonl" 2>"$W/follow.err" &
FPID=$!
tn stop --name mix3 --sigkill
for i in 9 10 11 12; do at bob send alice "m$i" >/dev/null || bad "send m$i"; done
for i in 13 14; do at alice send bob "m$i" >/dev/null || bad "send m$i"; done
# Half the routes cross mix3 until a consensus without it (an epoch or two):
# a lost fragment waits for its ARQ retry (timeouts doubling from the p99
# round trip), so the bound is long; most runs take a few seconds.
until_ok 150 has alice bob m9 m10 m11 m12 && ok "mix3 down: m9-m12 reach alice" ||
	bad "mix3 down: $(texts alice in bob | tr '\n' ' ')"
until_ok 60 has bob alice m13 m14 && ok "mix3 down: m13-m14 reach bob" ||
	bad "mix3 down: $(texts bob in alice | tr '\n' ' ')"
sleep 1
kill "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null
FPID=

# 5. Exactly once, in order.
WANT="m1 m2 m3 m4 m5 m6 big:20000 m8 m13 m14"
GOT=$(texts bob in alice | tr '\n' ' ' | sed 's/ $//')
[ "$GOT" = "$WANT" ] && ok "bob's inbox: each of alice's 10 messages once, in order" ||
	bad "bob's inbox: '$GOT', want '$WANT'"
GOT=$(texts alice in bob | tr '\n' ' ' | sed 's/ $//')
[ "$GOT" = "m0 m9 m10 m11 m12" ] && ok "alice's inbox: bob's 5 messages once, in order" ||
	bad "alice's inbox: '$GOT'"
IDS=$(rows bob | python3 -c '
import json, sys
ids = [json.loads(l)["id"] for l in sys.stdin]
print("unique" if len(ids) == len(set(ids)) else "duplicates")')
[ "$IDS" = unique ] && ok "no message row twice" || bad "message rows repeat"
GOT=$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join(r["text"] if len(r["text"]) < 100 else "big" for r in rows if r["dir"] == "in"))' "$W/follow.jsonl")
[ "$GOT" = "m1 m2 m3 m4 m5 m6 big m8 m13 m14" ] && ok "inbox --follow: old ones once, then m13, m14 once each" ||
	bad "inbox --follow showed: '$GOT' ($(cat "$W/follow.err"))"

# 6. Receipts off, block, and bad input: one line, exit status, no change.
at bob receipts alice off >/dev/null && at bob contacts --json | grep -q '"receipts":false' &&
	ok "receipts alice off at bob" || bad "receipts off: $(at bob contacts --json)"
OUT=$(at alice send carol hi 2>&1); RC=$?
[ "$RC" -eq 1 ] && [ "$(echo "$OUT" | wc -l)" -eq 1 ] && ok "send to an unknown contact: exit 1, '$OUT'" ||
	bad "send to an unknown contact: rc $RC: $OUT"
OUT=$(at bob accept bc1notaninvitation --name carol 2>&1); RC=$?
[ "$RC" -eq 1 ] && [ "$(echo "$OUT" | wc -l)" -eq 1 ] && ok "a bad invitation: exit 1, '$OUT'" ||
	bad "bad invitation: rc $RC: $OUT"
OUT=$(python3 -c 'print("y" * 65516, end="")' | at alice send bob 2>&1); RC=$?
[ "$RC" -eq 2 ] && ok "a text above 65515 bytes: exit 2, '$OUT'" || bad "long text: rc $RC: $OUT"
N=$(rows alice | wc -l)
at alice block bob >/dev/null && at alice contacts --json | grep -q '"state":"blocked"' &&
	ok "alice blocks bob" || bad "block: $(at alice contacts --json)"
OUT=$(at alice send bob "after the block" 2>&1); RC=$?
[ "$RC" -eq 1 ] && [ "$(rows alice | wc -l)" -eq "$N" ] && ok "send to a blocked contact refused: '$OUT'" ||
	bad "send after block: rc $RC: $OUT"

say "messaging-faults: $FAILS failures"
[ "$FAILS" -eq 0 ] && echo "messaging-faults: all checks passed"
[ "$FAILS" -eq 0 ]
