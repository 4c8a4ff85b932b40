#!/usr/bin/env bash
# Every configuration key of every command is in docs/operator-guide.md, with
# its type and default, and the guide lists no key the code does not have.
#   - the keys come from each command's --help (the config tables in the
#     code print themselves there: `[section]` lines, then one line a key:
#     name, type, "default VALUE" or "default (required)")
#   - the guide's keys are the table rows `| `name` | type | default | ...`
#     under a heading "### ... `backchannel COMMAND`" and a sub-heading
#     "#### `[section]`"; a "## " heading ends a command's tables
#   - a self-test first proves that a key missing from the guide, a key
#     missing from the code and a changed default each make the check fail
# Takes about a second.
#   tests/net/operator_guide.sh BUILD_DIR [GUIDE]
set -u
B=${1:-build/gcc}
BIN=$B/backchannel
GUIDE=${2:-$(dirname "$0")/../../docs/operator-guide.md}
[ -x "$BIN" ] || { echo "operator_guide: $BIN missing"; exit 1; }
[ -f "$GUIDE" ] || { echo "operator_guide: $GUIDE missing"; exit 1; }
W=$(mktemp -d /tmp/bc-opguide.XXXXXX)
trap 'rm -rf "$W"' EXIT

# Lines "command|section|key|type|default" from one command's --help.
keys_from_help() { # keys_from_help COMMAND < help text
	awk -v cmd="$1" '
	/^\[[a-z0-9_]+\]$/ { sec = substr($0, 2, length($0) - 2); next }
	sec != "" && /^  [a-z0-9_]+ +(string|integer|number|boolean|duration) +default/ {
		name = $1; type = $2
		d = $0
		sub(/^  [a-z0-9_]+ +[a-z]+ +default ?/, "", d)
		sub(/, range .*$/, "", d)
		if (d == "(required)") d = "required"
		else if (d == "") d = "empty"
		print cmd "|" sec "|" name "|" type "|" d
		next
	}
	/^[^ \[]/ { sec = "" }'
}

# The same lines from the guide's tables.
keys_from_guide() { # keys_from_guide FILE
	awk '
	/^## / { cmd = ""; sec = ""; next }
	/^### / {
		cmd = ""; sec = ""
		if (match($0, /`backchannel [a-z0-9-]+`/))
			cmd = substr($0, RSTART + 13, RLENGTH - 14)
		next
	}
	/^#### `\[[a-z0-9_]+\]`/ {
		if (cmd != "" && match($0, /\[[a-z0-9_]+\]/))
			sec = substr($0, RSTART + 1, RLENGTH - 2)
		next
	}
	cmd != "" && sec != "" && /^\| `[a-z0-9_]+` \|/ {
		n = split($0, f, "|")
		name = f[2]; type = f[3]; d = f[4]
		gsub(/[ `]/, "", name); gsub(/ /, "", type)
		gsub(/^ +| +$/, "", d); gsub(/`/, "", d)
		print cmd "|" sec "|" name "|" type "|" d
	}' "$1"
}

# Compares two sorted lists; prints each difference; exit 1 if any.
compare() { # compare CODE_LIST GUIDE_LIST
	local rc=0 line
	while IFS= read -r line; do
		echo "in the code, not in the guide (or another type/default): $line"
		rc=1
	done < <(comm -23 "$1" "$2")
	while IFS= read -r line; do
		echo "in the guide, not in the code (or another type/default): $line"
		rc=1
	done < <(comm -13 "$1" "$2")
	return $rc
}

# Every command the binary lists; those whose --help prints config keys.
: >"$W/code.raw"
CMDS=$("$BIN" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ -n "$CMDS" ] || { echo "operator_guide: no commands in '$BIN --help'"; exit 1; }
DAEMONS=""
for c in $CMDS; do
	timeout 10 "$BIN" "$c" --help >"$W/help.$c" 2>&1 </dev/null
	keys_from_help "$c" <"$W/help.$c" >"$W/keys.$c"
	if [ -s "$W/keys.$c" ]; then
		DAEMONS="$DAEMONS $c"
		cat "$W/keys.$c" >>"$W/code.raw"
	fi
done
LC_ALL=C sort -u "$W/code.raw" >"$W/code"
keys_from_guide "$GUIDE" | LC_ALL=C sort -u >"$W/guide"

# Self-test: the comparison must fail on each kind of drift.
FAILS=0
sed '1s/$/x/' "$W/code" | LC_ALL=C sort >"$W/code.extra"      # a key renamed in code
head -n -1 "$W/code" >"$W/code.less"                           # a key the code lost
awk -F'|' 'NR == 2 { $5 = $5 "0" } { print }' OFS='|' "$W/code" >"$W/code.def" # a default changed
for f in code.extra code.less code.def; do
	if compare "$W/$f" "$W/code" >/dev/null; then
		echo "self-test: a drift ($f) was not detected"
		FAILS=$((FAILS + 1))
	fi
done
if [ "$(wc -l <"$W/code")" -lt 20 ]; then
	echo "self-test: only $(wc -l <"$W/code") keys parsed from --help"
	FAILS=$((FAILS + 1))
fi

if ! compare "$W/code" "$W/guide"; then
	echo "operator_guide: docs/operator-guide.md and the config tables differ (see above):"
	echo "  a line is command|section|key|type|default; give each key a row"
	echo "  '| \`key\` | type | default | bounds | meaning |' under the guide's heading"
	echo "  '### ... \`backchannel COMMAND\`' and sub-heading '#### \`[section]\`'"
	FAILS=$((FAILS + 1))
fi
N=$(wc -l <"$W/code")
if [ "$FAILS" -eq 0 ]; then
	echo "operator_guide: $N keys of$DAEMONS all in the guide with type and default"
	exit 0
fi
exit 1
