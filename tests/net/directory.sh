#!/usr/bin/env bash
# net-suites: asan
# (long: the ASan run alone covers it, tests/README.md)
# Directory authorities on 127.0.0.1 (docs/directory.md): 3 authorities and
# 6 uploading test nodes with 30 s epochs. Checks: a consensus every epoch
# (bootstrap, next, one authority down); two down: none, nodes keep the old
# one until it expires and say why; 4 authorities split 2/2: none; forged,
# wrong-key, oversized and garbage uploads refused; too few signatures and
# conflicting consensuses rejected; a node 60 s off refuses to run; an
# authority restarted mid-epoch does not sign a second document.
#   tests/net/directory.sh BUILD_DIR
set -u
. "$(dirname "$0")/lib/common.sh" || exit 1
net_init directory directory "$@"
PIDS=() # the authorities and nodes started by hand (no testnet here)
on_cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null
	done
	sleep 0.3
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
}

# A free TCP port on loopback (nothing listening), distinct from earlier picks.
USED=" "
free_port() {
	local p
	while :; do
		# Below the kernel's ephemeral range (32768 and up here), so no
		# outgoing connection of this or another test holds the port.
		p=$((20000 + RANDOM % 12000))
		case "$USED" in *" $p "*) continue ;; esac
		if [ -z "$(ss -tanH "sport = :$p" 2>/dev/null)" ]; then
			USED="$USED$p "
			echo "$p"
			return
		fi
	done
}

EPOCH=30
# Genesis puts us 2 s into an epoch, so the schedule below is predictable.
GENESIS=$((T0 - 2 - EPOCH * 1000))
epoch_now() { echo $((($(date +%s) - GENESIS) / EPOCH)); }
E0=$(epoch_now)
# Sleeps until S seconds after the start of epoch E0.
until_t() { local now=$(date +%s) target=$((GENESIS + E0 * EPOCH + $1)); [ "$target" -gt "$now" ] && sleep $((target - now)); }

network_ini() { # network_ini [LAMBDA_P]: the latter for authorities only
	printf '[network]\ngenesis = %s\nepoch_length = %ss\ngrace = 10s\n' "$GENESIS" "$EPOCH"
	[ -n "${1:-}" ] && printf 'lambda_p = %s\n' "$1"
}

# make_authority NAME PORT AUTHSPEC [LAMBDA_P]
make_authority() {
	cat >"$W/$1.ini" <<EOT
[authority]
identity_key = $W/$1.key
listen = 127.0.0.1:$2
data_dir = $W/$1.data
authorities = $3
bootstrap_delay = 2s
vote_window = 3s
log_level = info
$(network_ini "${4:-2.0}")
EOT
}

declare -A APID
start_authority() { # start_authority NAME
	"$BIN" authority --config "$W/$1.ini" >>"$W/$1.log" 2>&1 &
	APID[$1]=$!
	PIDS+=($!)
}
stop_authority() { kill "${APID[$1]}" 2>/dev/null; wait "${APID[$1]}" 2>/dev/null; }

make_node() { # make_node NAME ROLE AUTHSPEC
	cat >"$W/$1.ini" <<EOT
[node]
identity_key = $W/$1.id
data_dir = $W/$1.data
address = 127.0.0.1:$(free_port)
role = $2
authorities = $3
step = 1s
log_level = info
$(network_ini)
EOT
}

# --- three authorities, six nodes -----------------------------------------
SPEC=""
for a in a1 a2 a3; do
	PORT[${a#a}]=$(free_port)
	k=$("$BIN" authority --init "$W/$a.key") || { bad "authority --init"; exit 1; }
	SPEC="$SPEC$k@127.0.0.1:${PORT[${a#a}]}, "
done
echo "$SPEC" >"$W/auth.list" # too long for one INI line
SPEC=$W/auth.list
A1=127.0.0.1:${PORT[1]}
A2=127.0.0.1:${PORT[2]}
A3=127.0.0.1:${PORT[3]}
for a in a1 a2 a3; do make_authority $a "${PORT[${a#a}]}" "$SPEC"; start_authority $a; done
for n in 1 2 3 4 5 6; do
	role=mix
	[ "$n" -le 2 ] && role=gateway
	make_node n$n $role "$SPEC"
	"$BIN" dirtest-node --config "$W/n$n.ini" >"$W/n$n.log" 2>&1 &
	PIDS+=($!)
done
say "3 authorities ($A1 $A2 $A3), 6 nodes, epoch $E0 began at -2s"

get() { curl -s --max-time 5 "http://$1$2"; }
doc_field() { get "$1" "$2" | sed -n "s/^$3 //p" | head -1; }
nsigs() { get "$1" "$2" | grep -c '^authority-signature '; }
# consensus_ok ADDR PATH EPOCH NODES MINSIGS (NODES: a count or "6|7")
consensus_ok() {
	local e n s
	e=$(doc_field "$1" "$2" epoch)
	n=$(doc_field "$1" "$2" node-count)
	s=$(nsigs "$1" "$2")
	[ "$e" = "$3" ] && [[ "$n" =~ ^($4)$ ]] && [ "$s" -ge "$5" ] ||
		{ say "  $1$2: epoch '$e' nodes '$n' signatures $s (want $3, $4, >= $5)"; return 1; }
}
all_nodes_log() { # all_nodes_log PATTERN
	local n
	for n in 1 2 3 4 5 6; do
		grep -q -- "$1" "$W/n$n.log" || { say "  n$n.log lacks '$1'"; return 1; }
	done
}

# --- bootstrap: a consensus for the current epoch within seconds ----------
until_t 10
for a in $A1 $A2 $A3; do
	check "bootstrap consensus of epoch $E0 at $a (6 nodes)" consensus_ok $a /consensus "$E0" 6 2
done
check "every node accepted the consensus of epoch $E0" all_nodes_log "consensus of epoch $E0 accepted"
get $A1 /consensus >"$W/full.txt"
check "curl shows a readable consensus" grep -q '^node mix [123]$' "$W/full.txt"
head -20 "$W/full.txt"

# --- bad uploads ------------------------------------------------------------
post() { # post FILE -> prints HTTP status; body in $W/post.out
	curl -s --max-time 5 -o "$W/post.out" -w '%{http_code}' --data-binary @"$1" "http://$A1/descriptor"
}
make_node n7 mix "$SPEC"
"$BIN" authority --init "$W/other.id" >/dev/null
"$BIN" dirtest-node --config "$W/n7.ini" --print-descriptor >"$W/good.desc" 2>"$W/n7.err"
"$BIN" dirtest-node --config "$W/n7.ini" --print-descriptor "$W/other.id" >"$W/wrongkey.desc" 2>>"$W/n7.err"
sed 's/^address .*/address 10.9.9.9:9999/' "$W/good.desc" >"$W/forged.desc"
head -c 6000 /dev/zero | tr '\0' a >"$W/big.desc"
printf 'hello\n' >"$W/garbage.desc"
check "a valid descriptor is accepted (200)" [ "$(post "$W/good.desc")" = 200 ]
check "a forged descriptor is refused (400)" [ "$(post "$W/forged.desc")" = 400 ]
grep -q 'does not verify' "$W/post.out" || bad "forged: answer '$(cat "$W/post.out")'"
check "a descriptor signed by the wrong key is refused (400)" [ "$(post "$W/wrongkey.desc")" = 400 ]
check "an oversized upload is refused (413)" [ "$(post "$W/big.desc")" = 413 ]
check "garbage is refused (400)" [ "$(post "$W/garbage.desc")" = 400 ]
grep -q 'bad descriptor: line 1' "$W/post.out" || bad "garbage: answer '$(cat "$W/post.out")'"
# The reason once ended in the HTTP answer's newline: a blank log line.
refusals_one_line() { grep -q 'refused a descriptor: ' "$W/a1.log" && ! grep -q '^$' "$W/a1.log"; }
check "a1 logs each refusal on one line (no blank lines)" refusals_one_line

# --- verifier: too few signatures, conflicting consensuses -----------------
{ grep -v '^authority-signature' "$W/full.txt"; grep '^authority-signature' "$W/full.txt" | head -1; } >"$W/one-sig.txt"
"$BIN" dirtest-node --config "$W/n7.ini" --verify "$W/one-sig.txt" >"$W/verify1.out" 2>&1
check "a consensus with too few signatures is rejected" [ $? -eq 1 ]
grep -q '1 valid signatures of configured authorities, 2 needed' "$W/verify1.out" || bad "too few: $(cat "$W/verify1.out")"
"$BIN" dirtest-node --config "$W/n7.ini" --forge "$W/a1.key,$W/a2.key" "$W/full.txt" >"$W/forged.txt"
"$BIN" dirtest-node --config "$W/n7.ini" --verify "$W/forged.txt" >"$W/verify2.out" 2>&1
check "the forged consensus alone verifies (test sanity)" [ $? -eq 0 ]
"$BIN" dirtest-node --config "$W/n7.ini" --verify "$W/full.txt" "$W/forged.txt" >"$W/verify3.out" 2>&1
check "conflicting consensuses: the verifier stops" [ $? -eq 3 ]
grep -q "two different valid consensuses for epoch $E0: [0-9a-f]\{64\} and [0-9a-f]\{64\}" "$W/verify3.out" ||
	bad "conflict message: $(cat "$W/verify3.out")"

# A running node that is served both: one "authority" (the key of a3, at
# the address of a static file server) hands out the forged consensus.
NEXT_NODES=6
PY=$(command -v /usr/bin/python3 python3 | head -1)
if [ -n "$PY" ]; then
	FAKE=$(free_port)
	mkdir -p "$W/fake"
	cp "$W/forged.txt" "$W/fake/consensus"
	echo "time $(date +%s)" >"$W/fake/time"
	"$PY" -m http.server --bind 127.0.0.1 --directory "$W/fake" "$FAKE" >"$W/fake.log" 2>&1 &
	PIDS+=($!)
	sed "s/127.0.0.1:${PORT[3]}/127.0.0.1:$FAKE/" "$W/auth.list" >"$W/fake.list"
	make_node n8 mix "$W/fake.list"
	sleep 1
	timeout 30 "$BIN" dirtest-node --config "$W/n8.ini" >"$W/n8.log" 2>&1
	check "a node served two valid consensuses for one epoch stops" [ $? -eq 1 ]
	# n8 may have uploaded its next-epoch descriptor to a1 and a2 first.
	NEXT_NODES="6|7"
	grep -q "FATAL: two different valid consensuses for epoch $E0" "$W/n8.log" || bad "n8: $(tail -2 "$W/n8.log")"
else
	say "skipped: no python3 for the live equivocation check"
fi

# --- a node whose clock is 60 s off refuses to run ----------------------------
if command -v faketime >/dev/null; then
	timeout 30 faketime -f '+60s' "$BIN" dirtest-node --config "$W/n7.ini" >"$W/skew.log" 2>&1
	check "a node 60 s ahead refuses to run" [ $? -eq 1 ]
	grep -q 'clock is \(59\|60\|61\) s ahead of the directory authorities' "$W/skew.log" || bad "skew: $(tail -2 "$W/skew.log")"
else
	bad "faketime missing (scripts/install-deps installs it)"
fi

# --- the next epoch's consensus, voted in the middle of this one -------------
E1=$((E0 + 1))
until_t 21
for a in $A1 $A2 $A3; do
	check "consensus of epoch $E1 at $a/consensus/next" consensus_ok $a /consensus/next "$E1" "$NEXT_NODES" 2
done

# Refused uploads changed nothing: a1's vote for the next epoch carries n7's
# good descriptor once and nothing of the forged one.
refusals_changed_nothing() {
	local vote id
	vote=$(get $A1 /vote/$E1)
	id=$(sed -n 's/^identity //p' "$W/good.desc")
	[ "$(grep -c "^identity $id$" <<<"$vote")" = 1 ] &&
		[ "$(grep -c '^address 10.9.9.9:9999$' <<<"$vote")" = 0 ] &&
		grep -q "^$(grep '^signature ' "$W/good.desc")$" <<<"$vote"
}
check "refused uploads changed nothing (a1's vote for epoch $E1)" refusals_changed_nothing

# --- an authority restarted mid-epoch does not sign a second document --------
# Restarted with a different parameter, it computes a different document for
# epochs it has signed: it must refuse, and its sign log keep one line each.
stop_authority a3
sed 's/^lambda_p = .*/lambda_p = 3.0/' "$W/a3.ini" >"$W/a3x.ini"
"$BIN" authority --config "$W/a3x.ini" >>"$W/a3.log" 2>&1 &
APID[a3]=$!
PIDS+=($!)
sleep 7
# A loaded machine may push a3's attempts past the 7 s: wait for them, bounded.
refused() { grep -q "epoch $1: refusing to sign [0-9a-f]*: already signed a different document" "$W/a3.log"; }
check "restarted authority refuses to sign a second document for epoch $E0" until_ok 20 refused "$E0"
check "... nor for epoch $E1" until_ok 20 refused "$E1"
one_line_each() {
	[ "$(grep -c "^$E0 " "$W/a3.data/signed.log")" = 1 ] && [ "$(grep -c "^$E1 " "$W/a3.data/signed.log")" = 1 ]
}
check "its sign log holds one line per epoch" one_line_each
check "the published consensus of epoch $E0 is unchanged" \
	[ "$(get $A1 /consensus/$E0 | grep -v '^authority-signature' | sha256sum)" = "$(grep -v '^authority-signature' "$W/full.txt" | sha256sum)" ]

# --- one authority down: still a consensus -----------------------------------
until_t 31
stop_authority a3
E2=$((E0 + 2))
until_t 53
for a in $A1 $A2; do
	check "one authority down: consensus of epoch $E2 at $a" consensus_ok $a /consensus/next "$E2" 6 2
done

# --- two authorities down: no consensus; nodes keep the old one, then not ----
stop_authority a2
E3=$((E0 + 3))

# --- meanwhile, 4 authorities split 2/2: no consensus ------------------------
# Each half knows the other half's keys but reaches nothing at their
# addresses (ports with no listener): 2 votes of 4, threshold 3.
for b in 1 2 3 4; do
	BP[$b]=$(free_port)
	DEAD[$b]=$(free_port)
	BK[$b]=$("$BIN" authority --init "$W/b$b.key")
done
# Four entries do not fit an INI line: the lists go in files.
printf '%s\n' "${BK[1]}@127.0.0.1:${BP[1]}" "${BK[2]}@127.0.0.1:${BP[2]}" \
	"${BK[3]}@127.0.0.1:${DEAD[3]}" "${BK[4]}@127.0.0.1:${DEAD[4]}" >"$W/split12.list"
printf '%s\n' "${BK[1]}@127.0.0.1:${DEAD[1]}" "${BK[2]}@127.0.0.1:${DEAD[2]}" \
	"${BK[3]}@127.0.0.1:${BP[3]}" "${BK[4]}@127.0.0.1:${BP[4]}" >"$W/split34.list"
make_authority b1 "${BP[1]}" "$W/split12.list"
make_authority b2 "${BP[2]}" "$W/split12.list"
make_authority b3 "${BP[3]}" "$W/split34.list"
make_authority b4 "${BP[4]}" "$W/split34.list"
for b in b1 b2 b3 b4; do start_authority $b; done
sleep 9
split_none() {
	local b code i all
	# The reason is logged once the voting window closes, which a loaded
	# machine may push past the sleep above: wait for it, bounded.
	for i in $(seq 1 60); do
		all=1
		for b in 1 2 3 4; do
			grep -q "2 of 4 votes, 3 needed; not signing yet" "$W/b$b.log" || all=0
		done
		[ "$all" = 1 ] && break
		sleep 0.5
	done
	for b in 1 2 3 4; do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${BP[$b]}/consensus")
		[ "$code" = 404 ] || { say "  b$b /consensus answered $code"; return 1; }
		grep -q "2 of 4 votes, 3 needed; not signing yet" "$W/b$b.log" || { say "  b$b.log lacks the reason"; return 1; }
	done
}
check "4 authorities split 2/2: no consensus" split_none
for b in b1 b2 b3 b4; do stop_authority $b; done

# Epoch E3 begins at 90 s: no consensus for it, nodes keep E2's until it
# expires at 90 + grace (10 s), and log why.
until_t 93
check "with two authorities down, no consensus for epoch $E3" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$A1/consensus")" = 404 ]
check "nodes keep the consensus of epoch $E2 and say why" \
	all_nodes_log "keeping the consensus of epoch $E2 until it expires at $((GENESIS + E3 * EPOCH + 10)): no valid consensus for epoch $E3"
until_t 103
check "nodes drop it when it expires and say why" \
	all_nodes_log "the consensus of epoch $E2 expired at $((GENESIS + E3 * EPOCH + 10)) and no valid consensus for epoch $E3 was found"
saw_each() {
	all_nodes_log "consensus of epoch $E1 accepted" && all_nodes_log "consensus of epoch $E2 accepted"
}
check "every node saw the consensus of epochs $E1 and $E2 too" saw_each

# Stop everything cleanly so sanitizer builds report leaks into the logs.
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
PIDS=()
no_sanitizer_reports() { ! grep -l 'Sanitizer\|runtime error' "$W"/*.log; }
check "no sanitizer reports in any process log" no_sanitizer_reports

if [ "$FAILS" -eq 0 ]; then
	say "directory: all checks passed"
	exit 0
fi
say "directory: $FAILS checks failed"
exit 1
