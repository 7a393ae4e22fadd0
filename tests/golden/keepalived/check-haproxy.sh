#!/bin/sh
# Managed by hakube (KeepalivedVip vip, member m1); changes here are overwritten.
# keepalived's health check: exit 0 when this host's HAProxy answers its monitor URI, non-zero otherwise.
set -eu
URL='http://127.0.0.1:8404/healthz'
RUN_AS='keepalived_script'
set -- curl --silent --fail --noproxy '*' --max-time 0.8 --output /dev/null "$URL"
if [ "$(id -u)" = 0 ]; then
  uid=$(id -u "$RUN_AS")
  gid=$(id -g "$RUN_AS")
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
fi
exec "$@"
