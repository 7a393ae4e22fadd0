#!/bin/sh
# Managed by hakube (KeepalivedVip vip, member m1); changes here are overwritten.
# keepalived's health check: exit 0 when this host's kube-apiserver is ready, non-zero otherwise.
set -eu
URL='https://10.0.0.11:6443/readyz'
RUN_AS='keepalived_script'
set -- curl --silent --fail --noproxy '*' --insecure --max-time 0.8 --output /dev/null "$URL"
if [ "$(id -u)" = 0 ]; then
  uid=$(id -u "$RUN_AS")
  gid=$(id -g "$RUN_AS")
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
fi
exec "$@"
