#!/bin/sh
# clean-data.sh [DATA_ROOT]: reset a minibox data root.
#
# Default DATA_ROOT: $MINIBOX_DATA_ROOT, else /var/lib/minibox. Refuses / and system
# directories, and refuses while a daemon holds the data root's lock. Stops the root's
# lazyfs server (by the PID in its lock file), unmounts everything mounted under the root
# (deepest first, lazily), then removes and recreates it. What the root's daemons added to
# the host's network (an address, rules and a claim on minibox0, user-defined networks'
# bridges) goes too; containers' veths are cleaned by the next daemon start.
set -eu

die() { echo "[error] clean-data: $*" >&2; exit 1; }

root=${1:-${MINIBOX_DATA_ROOT:-/var/lib/minibox}}
case $root in
/*) ;;
*) die "data root $root is not absolute" ;;
esac
# Resolve symlinks and dots so "/var/../etc" or a link to /usr is seen for what it is.
if [ -e "$root" ]; then
	root=$(realpath -e -- "$root")
else
	root=$(realpath -m -- "$root")
fi
case $root in
/ | /bin | /boot | /dev | /etc | /home | /lib | /lib64 | /proc | /root | /run | /sbin | /sys | /usr | /var | /tmp)
	die "refusing to reset $root: a system directory" ;;
esac
[ "$(id -u)" = 0 ] || die "must run as root (it unmounts and removes $root)"

if [ ! -e "$root" ]; then
	mkdir -p -m 0711 -- "$root"
	echo "OK  $root created"
	exit 0
fi
[ -d "$root" ] || die "$root is not a directory"

# A running daemon holds miniboxd.lock with flock: refuse rather than pull data from under it.
if [ -e "$root/miniboxd.lock" ]; then
	if ! flock -n "$root/miniboxd.lock" true; then
		die "a miniboxd (pid $(head -c 32 "$root/miniboxd.lock" | tr -dc 0-9)) is using $root; stop it first"
	fi
fi

# What the root's daemons added to the host's network and no daemon of the root will take
# back once it is reset: its subnet's gateway address and rules on the shared minibox0 and
# its claim on that subnet (a daemon releases them itself at shutdown unless containers still
# ran), and its user-defined networks' bridges with their rules. Other roots' stay.
rules_of() { # SUBNET: "chain handle" of each rule of minibox's table for SUBNET
	command -v nft >/dev/null || return 0
	nft -a list table ip minibox 2>/dev/null | awk -v s="$1" '
		function n(ip, a) { split(ip, a, "."); return ((a[1] * 256 + a[2]) * 256 + a[3]) * 256 + a[4] }
		BEGIN { split(s, p, "/"); d = 2 ^ (32 - p[2]); net = int(n(p[1]) / d) }
		$1 == "chain" { chain = $2 }
		/# handle / {
			h = $NF
			if (index($0, "comment \"minibox subnet " s "\"")) { print chain, h; next }
			# a port rule: comment "<id> <host>:<port>/<proto> <addr>:<port>"
			if (chain == "ports" && match($0, /comment "[0-9a-f]+ [^ ]+ [0-9.]+:[0-9]+"/)) {
				c = substr($0, RSTART, RLENGTH); split(c, f, " "); split(f[3], ap, ":")
				if (int(n(ap[1]) / d) == net) print chain, h
			}
		}'
}
drop_rules() { # SUBNET
	rules_of "$1" | while read -r chain handle; do
		nft delete rule ip minibox "$chain" handle "$handle" 2>/dev/null || true
	done
}
for claim in /run/minibox/subnets/*; do
	[ -f "$claim" ] && [ "$(cat "$claim")" = "$root" ] || continue
	subnet=$(basename "$claim" | tr _ /)
	gw=$(echo "$subnet" | awk -F'[./]' '{ print $1 "." $2 "." $3 "." $4 + 1 "/" $5 }')
	ip addr del "$gw" dev minibox0 2>/dev/null || true
	drop_rules "$subnet"
	rm -f -- "$claim"
	echo "..  released $subnet on minibox0" >&2
done
ip -o -d link show type bridge 2>/dev/null | awk -v a="minibox:" -v r=":$root" '
	{ for (i = 1; i < NF; i++) if ($i == "alias" && index($(i + 1), a) == 1 && substr($(i + 1), length($(i + 1)) - length(r) + 1) == r) { sub(/:$/, "", $2); print $2 } }' |
	while read -r br; do
		for p in $(ip -o -4 addr show dev "$br" | awk '{ print $4 }'); do
			drop_rules "$(echo "$p" | awk -F'[./]' '{
				m = 2 ^ (32 - $5); v = int(((($1 * 256 + $2) * 256 + $3) * 256 + $4) / m) * m
				printf "%d.%d.%d.%d/%d", int(v / 16777216), int(v / 65536) % 256, int(v / 256) % 256, v % 256, $5 }')"
		done
		ip link del "$br" 2>/dev/null || true
		echo "..  removed bridge $br" >&2
	done

# The lazyfs server of this root: its PID is in its lock, which it holds while alive.
lock="$root/lazy/.lazyfs.lock"
if [ -e "$lock" ] && ! flock -n "$lock" true; then
	pid=$(head -c 32 "$lock" | tr -dc 0-9)
	if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "minibox-lazyfs"; then
		echo "..  stopping lazyfs (pid $pid)" >&2
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
fi

# Unmount everything at or under the root, deepest first; lazily, so a busy or dead (FUSE
# ENOTCONN) mount cannot stop the reset.
n=0
for m in $(awk -v r="$root" '{
		p = $5; gsub(/\\040/, " ", p)
		if (p == r || index(p, r "/") == 1) print length(p) " " $5
	}' /proc/self/mountinfo | sort -rn | cut -d' ' -f2-); do
	m=$(printf '%b' "$(echo "$m" | sed 's/\\\([0-7][0-7][0-7]\)/\\0\1/g')")
	if umount -l -- "$m" 2>/dev/null; then
		n=$((n + 1))
	fi
done
[ "$n" -gt 0 ] && echo "..  unmounted $n mount(s) under $root" >&2

# Whatever is still mounted now (a mount that came back) would make rm cross into it.
if awk -v r="$root" '{ if ($5 == r || index($5, r "/") == 1) found = 1 } END { exit !found }' /proc/self/mountinfo; then
	die "something is still mounted under $root; not removing it"
fi

rm -rf --one-file-system -- "$root"
mkdir -p -m 0711 -- "$root"
echo "OK  $root reset"
