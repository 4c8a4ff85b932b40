#!/usr/bin/env bash
# net-suites: asan
# (long: the ASan run alone covers it, tests/README.md)
# Two clients become contacts and talk, on a whole local network
# (backchannel testnet: 3 authorities, 6 mixes, 2 gateways):
#   - alice (at gw1) invites, bob (at gw2) accepts the one line: both
#     contacts ready with the same safety number
#   - messages both ways, one of 20 kB, reach every state: queued, sent,
#     acknowledged, delivered, read (out); received, read (in)
#   - bob restarts (SIGKILL) and keeps his contact and messages; talk goes on
#   - alice moves from gw1 to gw2: what bob sent to her old queue while she
#     was down (a text, a receipt) arrives (drained from gw1), bob learns it
#     in-band, talk goes on, and the drain ends (her old queue deleted, gw1
#     forgotten)
#   - alice blocks bob: his next message is never delivered
# Everything through the control socket (JSON lines, docs/client-api.md).
#   tests/net/messaging.sh BUILD_DIR
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
net_init messaging messaging "$@"
PA= PB=
on_cleanup() {
	[ -n "$PA" ] && kill "$PA" 2>/dev/null
	[ -n "$PB" ] && kill "$PB" 2>/dev/null
}
# A failure here may quote a whole 20 kB message: cut it.
bad() { local m="$*"; say "FAIL: ${m:0:600}"; FAILS=$((FAILS + 1)); }

# ctl WHO JSON: one request on WHO's control socket, the answer on stdout.
ctl() {
	python3 - "$W/$1.sock" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(1 << 16)
        if not d:
            break
        buf += d
    sys.stdout.write(buf.decode())
except OSError as e:
    print('{"ok":false,"error":"%s"}' % e)
PY
}

# wait_for SECONDS WHO JSON EXPR: poll until EXPR is True.
wait_for() {
	local n=$1 who=$2 req=$3 expr=$4 i
	for i in $(seq 1 "$n"); do
		J=$(ctl "$who" "$req")
		[ "$(echo "$J" | py "$expr")" = True ] && return 0
		sleep 1
	done
	return 1
}

start_client() { # start_client NAME GW VAR: its pid in P$VAR
	echo "passphrase of $1" >"$W/$1.pass"
	client_ini "$2" "$W/$1" "$1" >"$W/$1.ini"
	"$BIN" client --config "$W/$1.ini" >>"$W/$1.log" 2>&1 &
	eval "P$3=\$!"
}

if ! "$BIN" testnet up --dir "$D" >"$W/up.log" 2>&1; then
	bad "testnet up"; cat "$W/up.log"; exit 1
fi
ok "testnet up"
start_client alice gw1 A
start_client bob gw2 B
for who in alice bob; do
	wait_for 60 "$who" '{"cmd":"status"}' "j['gateway']['state'] == 'ready'" &&
		ok "$who ready" || bad "$who not ready: $J"
done

# Invitation and acceptance.
J=$(ctl alice '{"cmd":"invite","name":"bob","expires_s":3600}')
CODE=$(echo "$J" | py "j['code']")
case "$CODE" in bc1*) ok "alice invites: ${#CODE} characters" ;; *) bad "invite: $J" ;; esac
J=$(ctl bob "{\"cmd\":\"accept\",\"code\":\"$CODE\",\"name\":\"alice\"}")
[ "$(echo "$J" | py "j['ok']")" = True ] && ok "bob accepts" || bad "accept: $J"
J=$(ctl bob "{\"cmd\":\"accept\",\"code\":\"${CODE%?}x\",\"name\":\"carol\"}")
[ "$(echo "$J" | py "j['ok']")" = False ] && ok "an altered invitation is refused: $(echo "$J" | py "j['error']")" || bad "altered invitation: $J"
C_READY="[c['state'] for c in j['contacts'] if c['name'] == '%s'] == ['ready']"
wait_for 60 bob '{"cmd":"contacts"}' "$(printf "$C_READY" alice)" && ok "bob: alice is ready" || bad "bob: $J"
wait_for 60 alice '{"cmd":"contacts"}' "$(printf "$C_READY" bob)" && ok "alice: bob is ready" || bad "alice: $J"
SA=$(ctl alice '{"cmd":"contacts"}' | py "[c['safety_number'] for c in j['contacts'] if c['name']=='bob'][0]")
SB=$(ctl bob '{"cmd":"contacts"}' | py "[c['safety_number'] for c in j['contacts'] if c['name']=='alice'][0]")
[ -n "$SA" ] && [ "$SA" = "$SB" ] && ok "same safety number: $SA" || bad "safety numbers: '$SA' vs '$SB'"

# Messages both ways, one of 20 kB.
send() { # send FROM TO TEXT -> id
	ctl "$1" "{\"cmd\":\"send\",\"to\":\"$2\",\"text\":\"$3\"}" | py "j['id']"
}
I1=$(send alice bob "hello bob")
I2=$(send bob alice "hello alice")
BIG=$(head -c 15000 /dev/urandom | base64 -w0 | head -c 20000)
I3=$(send bob alice "$BIG")
[ ${#I1} -eq 32 ] && [ ${#I2} -eq 32 ] && [ ${#I3} -eq 32 ] && ok "three messages queued" || bad "send: '$I1' '$I2' '$I3'"
STATE="[m['state'] for m in j['messages'] if m['id'] == '%s' and m['dir'] == '%s'] == ['%s']"
wait_for 90 alice '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I1" out delivered)" &&
	ok "alice's message delivered" || bad "alice's message: $J"
wait_for 90 bob '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I3" out delivered)" &&
	ok "bob's 20 kB message delivered" || bad "bob's 20 kB message: $J"
J=$(ctl alice '{"cmd":"messages","since":0,"contact":"bob"}')
GOT=$(echo "$J" | py "[m['text'] for m in j['messages'] if m['id'] == '$I3'][0]")
[ "$GOT" = "$BIG" ] && ok "the 20 kB text arrived intact" || bad "20 kB text differs (${#GOT} bytes)"
J=$(ctl alice '{"cmd":"read","contact":"bob"}')
[ "$(echo "$J" | py "j['marked']")" = 2 ] && ok "alice marks 2 read" || bad "read: $J"
wait_for 60 bob '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I2" out read)" &&
	ok "bob sees the read receipt" || bad "read receipt: $J"
T=$(echo "$J" | py "sorted([m['times'] for m in j['messages'] if m['id'] == '$I2'][0].keys())")
[ "$T" = "['acknowledged', 'delivered', 'queued', 'read', 'sent']" ] && ok "every state has its time: $T" || bad "times: $T"

# Bob restarts hard; nothing is lost, talk goes on.
kill -9 "$PB"; wait "$PB" 2>/dev/null
"$BIN" client --config "$W/bob.ini" >>"$W/bob.log" 2>&1 &
PB=$!
wait_for 60 bob '{"cmd":"contacts"}' "$(printf "$C_READY" alice)" && ok "bob restarted: alice still ready" || bad "after restart: $J"
N=$(ctl bob '{"cmd":"messages","since":0}' | py "len(j['messages'])")
[ "$N" = 3 ] && ok "bob kept his 3 messages" || bad "bob has $N messages"
I4=$(send alice bob "after the restart")
wait_for 90 bob '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I4" in received)" &&
	ok "bob receives after his restart" || bad "after restart: $J"

# Alice moves to gw2: she tells bob in-band, the conversation goes on;
# what bob sent to her old queue at gw1 meanwhile (a text, and the
# delivery receipt of hers: bob is down when she sends it) is fetched
# from there.
kill "$PB"; wait "$PB" 2>/dev/null
I9=$(send alice bob "before my move")
wait_for 60 alice '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I9" out acknowledged)" &&
	ok "alice's message waits at bob's gateway" || bad "before the move: $J"
kill "$PA"; wait "$PA" 2>/dev/null
"$BIN" client --config "$W/bob.ini" >>"$W/bob.log" 2>&1 &
PB=$!
wait_for 60 bob '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I9" in received)" &&
	ok "bob receives it; its receipt goes to alice's old queue" || bad "before the move: $J"
I8=$(send bob alice "while you move")
wait_for 60 bob '{"cmd":"status"}' "j['queues']['outbox'] == 0" &&
	ok "bob's message and receipt wait at alice's old gateway" || bad "before the move: $J"
GW2=$(field gw2 4)
sed -i "s|^gateway = .*|gateway = $GW2|; s|^gateway_key = .*|gateway_key = $(pubkey "$D/gw2/link.key")|" "$W/alice.ini"
"$BIN" client --config "$W/alice.ini" >>"$W/alice.log" 2>&1 &
PA=$!
wait_for 60 bob '{"cmd":"contacts"}' "[c['gateway'] for c in j['contacts'] if c['name'] == 'alice'] == ['$GW2']" &&
	ok "alice moved to gw2 and bob knows it" || bad "move: $J"
I6=$(send bob alice "after your move")
I7=$(send alice bob "from my new gateway")
wait_for 60 bob '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I6" out delivered)" &&
	ok "bob's message reaches alice at gw2" || bad "after the move: $J"
wait_for 60 alice '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I7" out delivered)" &&
	ok "alice's message from gw2 delivered" || bad "from gw2: $J"
wait_for 60 bob '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I8" out delivered)" &&
	ok "bob's message left at gw1 reaches alice" || bad "drain: $J"
wait_for 60 alice '{"cmd":"messages","since":0}' "$(printf "$STATE" "$I9" out delivered)" &&
	ok "bob's receipt left at gw1 reaches alice" || bad "drain: $J"
wait_for 60 alice '{"cmd":"status"}' "j['old_gateway']['state'] == 'none'" &&
	grep -q "drained the old gateway" "$W/alice.log" &&
	ok "alice drained gw1 and forgot it" || bad "old gateway: $J"
N=$(ctl alice '{"cmd":"messages","since":0}' | py "len([m for m in j['messages'] if m['dir'] == 'in'])")
[ "$N" = 4 ] && ok "alice has each of bob's 4 messages once" || bad "alice has $N incoming messages"

# Alice blocks bob: nothing of his is accepted any more.
J=$(ctl alice '{"cmd":"block","name":"bob"}')
[ "$(echo "$J" | py "j['ok']")" = True ] && ok "alice blocks bob" || bad "block: $J"
J=$(ctl alice '{"cmd":"send","to":"bob","text":"x"}')
[ "$(echo "$J" | py "j['ok']")" = False ] && ok "alice cannot send to a blocked contact" || bad "send to blocked: $J"
I5=$(send bob alice "are you there?")
sleep 15
J=$(ctl alice '{"cmd":"messages","since":0}')
[ "$(echo "$J" | py "any(m['id'] == '$I5' for m in j['messages'])")" = False ] &&
	ok "bob's message after the block never reaches alice" || bad "blocked message arrived"
J=$(ctl bob '{"cmd":"messages","since":0}')
S5=$(echo "$J" | py "[m['state'] for m in j['messages'] if m['id'] == '$I5'][0]")
case "$S5" in queued|sent) ok "bob's message stays $S5" ;; *) bad "blocked message state $S5" ;; esac

say "messaging: $FAILS failures"
[ "$FAILS" -eq 0 ] && echo "messaging: all checks passed"
[ "$FAILS" -eq 0 ]
