#!/usr/bin/env bash
# Builds the busybox rootfs fixture (a tarball) from Debian's busybox-static package.
set -euo pipefail
out=${1:-testdata/busybox.tar}
if [ ! -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
	echo "installing busybox-static" >&2
	apt-get install -y -qq busybox-static >/dev/null
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bb=/bin/busybox
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,home/user,var/www}
chmod 1777 "$dir/tmp"; chmod 700 "$dir/root"
cp "$bb" "$dir/bin/busybox"
for l in $($bb --list-full); do
	[ "$l" = bin/busybox ] && continue
	mkdir -p "$dir/$(dirname "$l")"
	rel=$(realpath -m -s --relative-to="/$(dirname "$l")" /bin/busybox)
	ln -sf "$rel" "$dir/$l"
done
printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n' >"$dir/etc/passwd"
printf 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nusers:x:100:user\nuser:x:1000:\nnogroup:x:65534:\n' >"$dir/etc/group"
echo 'hello from minibox' >"$dir/var/www/index.html"
mkdir -p "$(dirname "$out")"
tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@315532800 -C "$dir" -cf "$out.tmp" .
mv "$out.tmp" "$out"
echo "wrote $out ($(du -h "$out" | cut -f1))" >&2
