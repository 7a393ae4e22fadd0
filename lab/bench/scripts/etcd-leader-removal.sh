#!/bin/bash
# The write gap when the leader of a 3-member etcd cluster is removed, side by side, on loopback only:
# A = `member remove` of the leader as it is; B = `move-leader` to another voter first (what EtcdCluster's
# remove step does), then remove. Each round makes the third member the leader, starts a writer (one
# `etcdctl put` through the two members that stay, every 20 ms), removes it, and prints the longest time
# between two acknowledged writes; then a fresh third member joins for the next removal.
# Usage: ETCD=/path/to/etcd bash lab/bench/scripts/etcd-leader-removal.sh [rounds]  (etcdctl from PATH)
# Plain HTTP on 127.0.0.1 ports 32371-32383, etcd's default timings (heartbeat 100 ms, election 1000 ms).
# Everything lives in one temp dir; every etcd it started is killed and the dir removed on exit.
set -u
ROUNDS=${1:-5}
E=${ETCD:-$(command -v etcd || true)}
[ -x "$E" ] || { echo "no etcd binary: set ETCD (e.g. from Debian's etcd-server package: apt-get download etcd-server; dpkg-deb -x etcd-server_*.deb x; ETCD=x/usr/bin/etcd)" >&2; exit 2; }
command -v etcdctl >/dev/null || { echo "no etcdctl in PATH (Debian: etcd-client)" >&2; exit 2; }
W=$(mktemp -d /tmp/hakube-leader-removal-XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; pkill -9 -f "$W" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cport() { echo $((32370 + $1)); }
pport() { echo $((32380 + $1)); }
client_url() { echo "http://127.0.0.1:$(cport "$1")"; }
ctl() { ETCDCTL_API=3 etcdctl --dial-timeout=1s --command-timeout=1s "$@"; }
start() { # $1 index, $2 name, $3 initial-cluster, $4 state
  "$E" --name "$2" --data-dir "$W/$2" --listen-client-urls "$(client_url "$1")" --advertise-client-urls "$(client_url "$1")" \
    --listen-peer-urls "http://127.0.0.1:$(pport "$1")" --initial-advertise-peer-urls "http://127.0.0.1:$(pport "$1")" \
    --initial-cluster "$3" --initial-cluster-state "$4" --heartbeat-interval 100 --election-timeout 1000 \
    --logger zap --log-outputs "$W/$2.log" &
  PIDS+=($!)
}
IC="a=http://127.0.0.1:$(pport 1),b=http://127.0.0.1:$(pport 2),c=http://127.0.0.1:$(pport 3)"
start 1 a "$IC" new; start 2 b "$IC" new; start 3 c "$IC" new
ALL="$(client_url 1),$(client_url 2),$(client_url 3)"
# Healthy within 60 s, or give up with the end of the members' logs (the exit trap cleans up).
wait_healthy() {
  for _ in $(seq 300); do ctl --endpoints="$1" endpoint health >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "etcd at $1 not healthy within 60 s; the end of the newest member's log:" >&2
  tail -n 5 "$(ls -t "$W"/*.log | head -1)" >&2
  exit 1
}
wait_healthy "$ALL"
id_of() { ctl --endpoints="$(client_url 1)" member list -w simple | awk -F', ' -v n="$1" '$3 == n { print $1 }'; }
# Writer: puts through a and b (never the removed member) every 20 ms; prints the longest gap between acks.
writer() {
  local last now gap=0 t
  last=$(date +%s%3N)
  while [ ! -f "$W/stop" ]; do
    if ctl --endpoints="$(client_url 1),$(client_url 2)" put k "$RANDOM" >/dev/null 2>&1; then
      now=$(date +%s%3N); t=$((now - last)); [ $t -gt $gap ] && gap=$t; last=$now
    fi
    sleep 0.02
  done
  echo "$gap"
}
third=c
k=0
for r in $(seq 1 "$ROUNDS"); do
  for mode in A B; do
    k=$((k + 1))
    # Make the third member the leader.
    cur=$(ctl --endpoints="$ALL" endpoint status -w simple | awk -F', ' '$5 == "true" { print $1 }')
    [ "$cur" = "$(client_url 3)" ] || ctl --endpoints="$cur" move-leader "$(id_of "$third")" >/dev/null
    sleep 1
    leader=$(ctl --endpoints="$ALL" endpoint status -w simple | awk -F', ' '$5 == "true" { print $1 }')
    [ "$leader" = "$(client_url 3)" ] || { echo "round $r $mode: could not make $third the leader ($leader)"; exit 1; }
    rm -f "$W/stop"; writer > "$W/gap" & wp=$!
    sleep 1
    t0=$(date +%s%3N)
    if [ $mode = B ]; then ctl --endpoints="$(client_url 3)" move-leader "$(id_of a)" >/dev/null; fi
    ctl --endpoints="$(client_url 1),$(client_url 2)" member remove "$(id_of "$third")" >/dev/null
    t1=$(date +%s%3N)
    sleep 3
    touch "$W/stop"; wait $wp
    # The removed member is killed and gone (its ports free) before a new one starts on them.
    pkill -9 -f "data-dir $W/$third "
    for _ in $(seq 100); do pgrep -f "data-dir $W/$third " >/dev/null || break; sleep 0.1; done
    while ss -Htln "sport = :$(pport 3)" | grep -q .; do sleep 0.1; done
    echo "round $r mode $mode: remove took $((t1 - t0)) ms, longest write gap $(cat "$W/gap") ms"
    echo "$mode $(cat "$W/gap")" >> "$W/results"
    rm -rf "${W:?}/$third"
    # A fresh third member for the next removal.
    third="x$k"
    # etcd refuses a member add for a while after a removal ("unhealthy cluster"): try for up to 30 s.
    # An add whose answer timed out may have been applied: look for the peer URL before trying again.
    for try in $(seq 60); do
      ctl --endpoints="$(client_url 1)" member list -w simple 2>/dev/null | grep -q ", http://127.0.0.1:$(pport 3)," && break
      ctl --endpoints="$(client_url 1)" --command-timeout=5s member add "$third" --peer-urls="http://127.0.0.1:$(pport 3)" >/dev/null 2>&1 && break
      [ "$try" -lt 60 ] || { echo "member add $third refused for 30 s" >&2; exit 1; }
      sleep 0.5
    done
    start 3 "$third" "a=http://127.0.0.1:$(pport 1),b=http://127.0.0.1:$(pport 2),$third=http://127.0.0.1:$(pport 3)" existing
    wait_healthy "$(client_url 3)"
    sleep 2
  done
done
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median longest write gap over $ROUNDS rounds: A (remove the leader as it is) $(awk '$1 == "A" { print $2 }' "$W/results" | median) ms, B (move-leader first) $(awk '$1 == "B" { print $2 }' "$W/results" | median) ms"
