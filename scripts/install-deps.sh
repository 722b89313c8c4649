#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo use, when missing (as root).
set -euo pipefail
packages=(busybox-static nftables iproute2 fuse3 kmod ca-certificates curl skopeo umoci procps bsdutils
	docker.io docker-compose python3-docker)
# `install-deps.sh bench`: also the baselines the benchmarks compare with.
[ "${1:-}" = bench ] && packages+=(runc wrk podman conmon nginx-light)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# docker.io brings dockerd, which must never start here: it sets the FORWARD policy
	# to DROP and takes /run/docker.sock. Its CLI is used against miniboxd; the build
	# benchmark starts a private dockerd (BuildKit) and containerd of its own, without
	# iptables, on a temporary directory.
	# A policy-rc.d forbids every service start during the install; the units are masked
	# so that nothing (socket activation included) starts it later. nginx (a benchmark's
	# server, run by the bench itself) must not take the host's port 80 either.
	policy_made=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		policy_made=1
	fi
	if command -v systemctl >/dev/null; then
		systemctl mask docker.service docker.socket containerd.service nginx.service >/dev/null 2>&1 || true
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	[ -z "$policy_made" ] || rm -f /usr/sbin/policy-rc.d
fi
modprobe overlay 2>/dev/null || true
modprobe fuse 2>/dev/null || true
