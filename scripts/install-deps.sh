#!/usr/bin/env bash
# Installs the Debian packages that the lab and the tests use on this machine (not on the lab hosts:
# those get theirs from the lab's offline package cache). Idempotent; needs root and apt-get.
set -euo pipefail
PACKAGES=(
  systemd-container # systemd-nspawn: the lab hosts
  debootstrap       # the hosts' Debian root file system
  iproute2          # bridge and veths
  util-linux        # nsenter, unshare
  openssl           # certificate checks in tests
  openssh-client    # ssh-keygen for lab keys
  openssh-server    # sshd on loopback for the lab runner's tests
  curl              # release-download tests
  etcd-client       # etcdctl: tests talk to the lab's etcd with the component's client certificate
  keepalived        # `keepalived -t` checks of rendered configs (never started on this machine)
  haproxy           # `haproxy -c` checks of rendered configs (never started on this machine)
  ca-certificates
  xz-utils          # unpacks the prebuilt Kubernetes binaries
  skopeo            # pushes the lab's container images into its registry
  docker-registry   # the lab's image registry (bound to a lab bridge address only)
)
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: run as root (apt-get install ${PACKAGES[*]})" >&2
  exit 1
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages such as keepalived and haproxy start their services on install; on this machine they must
# not run (tests only use their config checks), so a temporary policy-rc.d forbids it.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
