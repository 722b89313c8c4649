#!/usr/bin/env bash
# The README's first command: a daemon on a temporary data root, an image built from
# testdata, containers run, a published port fetched with curl; then everything removed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }
command -v curl >/dev/null || apt-get install -y -qq curl >/dev/null
bin=$PWD/bin
root=$(mktemp -d /tmp/minibox-demo.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)
export MINIBOX_API=http://127.0.0.1:$port NO_COLOR=1
daemon_pid=
cleanup() {
	set +e
	if [ -n "$daemon_pid" ]; then
		for id in $("$bin/minibox" ps -aq 2>/dev/null); do "$bin/minibox" rm -f "$id" >/dev/null; done
		kill -TERM "$daemon_pid"; wait "$daemon_pid" 2>/dev/null
	fi
	grep " $root/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
	rm -rf "$root" "$root.log"
}
trap cleanup EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "miniboxd  (data root $root, API $MINIBOX_API)"
MINIBOX_DATA_ROOT=$root MINIBOX_HTTP_ADDR=127.0.0.1:$port "$bin/miniboxd" 2>"$root.log" &
daemon_pid=$!
for _ in $(seq 200); do "$bin/minibox" ping >/dev/null 2>&1 && break; sleep 0.05; done
"$bin/minibox" ping

step "minibox import testdata/busybox.tar busybox"
"$bin/minibox" import testdata/busybox.tar busybox

step "minibox build -t demo-web testdata/demo"
"$bin/minibox" build --progress plain -t demo-web testdata/demo

step "minibox run --rm demo-web cat /etc/banner"
"$bin/minibox" run --rm demo-web cat /etc/banner

step "minibox run -d --name web -p 127.0.0.1:$((port+1)):80 demo-web"
"$bin/minibox" run -d --name web -p 127.0.0.1:$((port+1)):80 demo-web

step "curl http://127.0.0.1:$((port+1))/"
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$((port+1))/" && break; sleep 0.05; done

step "minibox ps"
"$bin/minibox" ps

step "minibox exec web wget -qO- http://127.0.0.1/"
"$bin/minibox" exec web wget -qO- http://127.0.0.1/

step "minibox logs web"
"$bin/minibox" logs web

step "minibox stop web && minibox rm web"
"$bin/minibox" stop web
"$bin/minibox" rm web
echo
echo "demo done: the daemon stops and $root is removed"
