#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo use, when missing (as root).
set -euo pipefail
packages=(busybox-static nftables iproute2 fuse3 kmod ca-certificates curl skopeo umoci procps)
# `install-deps.sh bench`: also the baselines the benchmarks compare with.
[ "${1:-}" = bench ] && packages+=(runc wrk)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
modprobe overlay 2>/dev/null || true
modprobe fuse 2>/dev/null || true
