#!/usr/bin/env bash
# Builds the Kubernetes v1.20.2 server binaries the lab installs on its hosts:
#   kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubeadm kubectl pause
#
# Why: this workplace reaches only the npm registry and Debian's package mirrors (no dl.k8s.io, no
# GitHub, no Go module proxy), so the release binaries cannot be downloaded. They are built here from
# the only Kubernetes server source in the reachable Debian archive:
#   source package kubernetes 1.20.5+really1.20.2-1.1+deb12u1 (bookworm; upstream v1.20.2, commit
#   faecb196815e, vendor/ included; bullseye ships the same orig tarball)
#     kubernetes_1.20.5+really1.20.2.orig.tar.gz
#       sha256 b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc
#     kubernetes_1.20.5+really1.20.2-1.1+deb12u1.debian.tar.xz
#       sha256 9b6e5fd41769d2b5badf2e73b274e3bcd90f85e13d06a1a4a845ccce018127d8
#   (file names are read from the .dsc in <mirror>/pool/main/k/kubernetes/; both hashes are checked
#   before anything is unpacked; the Debian patches (kubectl printer fixes, CVE-2021-25743) are applied).
# How: a bullseye chroot (debootstrap --variant=minbase) with bullseye's golang-1.15-go (Go 1.15.15,
# the Go line 1.20 was released with); upstream `make generated_files`, then hack/make-rules/build.sh
# per binary (what `make WHAT=cmd/<name>` runs) in GOPATH mode with GO111MODULE=off, CGO_ENABLED=0 and
# KUBE_STATIC_OVERRIDES=kubelet, as Debian's debian/rules does; GOPROXY=off, nothing is fetched by Go.
# The version comes from the archive's export-subst stamps (v1.20.2, GitTreeState "archive");
# buildDate is SOURCE_DATE_EPOCH = the date of debian/changelog's top entry (as dpkg-buildpackage sets
# it), so two builds give the same binaries. pause is upstream build/pause/linux/pause.c,
# `gcc -Os -Wall -Werror -static`, labelled v3.2 (the pause tag kubeadm v1.20 uses). All static, stripped.
# Time: about 25 CPU-minutes (~1.5 min chroot + build deps + source, ~2 min generated files, ~15
# CPU-min Go build, ~1.5 CPU-min xz -3), so ~15 min on 2 idle cores; 22 min (with xz -9) measured at
# load 5, 55 min at load 15-24. Disk:
# ~3.7 GB in the build dir, plus ~0.5 GB of uncompressed binaries beside OUT_DIR while packaging.
#
# Usage: scripts/build-kubernetes.sh [OUT_DIR]     (as root; needs debootstrap, xz-utils, curl)
#   OUT_DIR    default <lab root>/cache/kubernetes/v1.20.2; <lab root> is <repo>/.lab or $HAKUBE_LAB_ROOT
#   BUILD_DIR  work dir for the chroot and the build, default <lab root>/cache/kubernetes-build;
#              removed when done (on failure only its logs/ stay)
#   KEEP_BUILD=1  keep the chroot and the build tree in BUILD_DIR
#   MIRROR     Debian mirror, default: the first non-security URI of this machine's apt sources
#
# Output layout (read by the lab):
#   OUT_DIR/<name>.xz   each binary, xz-compressed
#   OUT_DIR/SHA256SUMS  sha256 of the uncompressed binaries, `sha256sum` format ("<hex>  <name>")
# Idempotent: when OUT_DIR already holds all eight .xz files matching SHA256SUMS, it says so and exits 0.
# OUT_DIR appears only complete: the result is assembled in a temporary directory beside it, checked,
# and renamed into place. The build runs in a private mount namespace and unmounts what it mounted in
# the chroot on every exit, so nothing stays mounted under BUILD_DIR even if the script is killed.
set -euo pipefail

readonly VERSION=v1.20.2
readonly SRC_PKG=kubernetes
readonly SRC_VERSION=1.20.5+really1.20.2-1.1+deb12u1
readonly ORIG_TARBALL=kubernetes_1.20.5+really1.20.2.orig.tar.gz
readonly ORIG_SHA256=b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc
readonly DEBIAN_TARBALL=kubernetes_1.20.5+really1.20.2-1.1+deb12u1.debian.tar.xz
readonly DEBIAN_SHA256=9b6e5fd41769d2b5badf2e73b274e3bcd90f85e13d06a1a4a845ccce018127d8
readonly SUITE=bullseye
readonly GO_PACKAGE=golang-1.15-go
readonly GO_BIN=/usr/lib/go-1.15/bin
readonly PAUSE_VERSION=v3.2-hakube
readonly CHROOT_PACKAGES=("$GO_PACKAGE" make rsync gcc libc6-dev patch)
# Go binaries in build order (kubectl first: its packages are shared by most of the others).
readonly GO_BINARIES=(kubectl kubeadm kube-scheduler kube-proxy kubelet kube-controller-manager kube-apiserver)
# SHA256SUMS order.
readonly BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubeadm kubectl pause)
readonly MIN_FREE_KB=$((5 * 1024 * 1024))
readonly NS_MARKER=_HAKUBE_BUILD_KUBERNETES_NS

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
REPO_ROOT=$(cd "$(dirname "$SCRIPT")/.." && pwd -P)
LAB_ROOT=$(realpath -m "${HAKUBE_LAB_ROOT:-$REPO_ROOT/.lab}")
OUT_DIR=$(realpath -m "${1:-$LAB_ROOT/cache/kubernetes/$VERSION}")
BUILD_DIR=$(realpath -m "${BUILD_DIR:-$LAB_ROOT/cache/kubernetes-build}")
CHROOT=$BUILD_DIR/chroot
LOG_DIR=$BUILD_DIR/logs
SRC_IN_CHROOT=/build/go/src/k8s.io/kubernetes
START=${_HAKUBE_BUILD_KUBERNETES_START:-$(date +%s)}

say() { printf 'build-kubernetes [%4ds] %s\n' "$(($(date +%s) - START))" "$*"; }
die() {
  say "ERROR: $*" >&2
  exit 1
}

if [ $# -gt 1 ] || [[ ${1:-} == -* ]]; then
  echo "usage: $0 [OUT_DIR]   (default OUT_DIR: $LAB_ROOT/cache/kubernetes/$VERSION)" >&2
  exit 2
fi

# ---------------------------------------------------------------------------------------------------
# The finished output: all eight .xz files, and SHA256SUMS naming exactly them with the sha256 of their
# decompressed contents.
out_is_complete() {
  local dir=$1 name want pids=() pid ok=0
  [ -f "$dir/SHA256SUMS" ] || return 1
  [ "$(awk 'NF' "$dir/SHA256SUMS" | wc -l)" -eq "${#BINARIES[@]}" ] || return 1
  for name in "${BINARIES[@]}"; do
    [ -f "$dir/$name.xz" ] || return 1
    want=$(awk -v n="$name" '$2 == n && length($1) == 64 && $1 ~ /^[0-9a-f]+$/ { print $1 }' "$dir/SHA256SUMS")
    [ -n "$want" ] || return 1
    # Decompress and hash all files at once (about 500 MB in all).
    { [ "$(xz -dc -- "$dir/$name.xz" | sha256sum | cut -d' ' -f1)" = "$want" ]; } 2>/dev/null &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || ok=1; done
  return "$ok"
}

check_existing_output() {
  if [ -d "$OUT_DIR" ]; then
    if out_is_complete "$OUT_DIR"; then
      say "already built: $OUT_DIR (all ${#BINARIES[@]} binaries match SHA256SUMS)"
      exit 0
    fi
    say "$OUT_DIR exists but is incomplete or does not match its SHA256SUMS: rebuilding it"
  fi
}

# ---------------------------------------------------------------------------------------------------
# Outside the mount namespace: the quick exit, the prerequisites, then re-exec in a private mount
# namespace (mounts made there vanish with it, whatever happens to this script).
if [ -z "${!NS_MARKER:-}" ]; then
  if command -v xz >/dev/null; then check_existing_output; fi

  problems=()
  [ "$(id -u)" = 0 ] || problems+=("must run as root (debootstrap, chroot and mount need it)")
  missing=()
  for tool in debootstrap:debootstrap xz:xz-utils curl:curl unshare:util-linux findmnt:util-linux \
    flock:util-linux chroot:coreutils sha256sum:coreutils realpath:coreutils; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:} (${tool%%:*})")
  done
  [ ${#missing[@]} -eq 0 ] || problems+=("missing commands, install with apt-get install: ${missing[*]}")
  [ "$(uname -m)" = x86_64 ] || problems+=("the host must be x86_64 (the build is amd64 only)")
  [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] ||
    problems+=("missing /usr/share/keyrings/debian-archive-keyring.gpg (apt-get install debian-archive-keyring)")
  if [ ${#problems[@]} -gt 0 ]; then
    for p in "${problems[@]}"; do echo "build-kubernetes: $p" >&2; done
    exit 1
  fi

  case "$OUT_DIR/" in "$BUILD_DIR"/*) die "OUT_DIR ($OUT_DIR) must not be inside BUILD_DIR ($BUILD_DIR)" ;; esac
  case "$BUILD_DIR/" in "$OUT_DIR"/*) die "BUILD_DIR ($BUILD_DIR) must not be inside OUT_DIR ($OUT_DIR)" ;; esac
  case "$BUILD_DIR" in / | "$REPO_ROOT" | "$LAB_ROOT" | "$(dirname "$OUT_DIR")") die "refusing BUILD_DIR=$BUILD_DIR" ;; esac

  export "$NS_MARKER=1" _HAKUBE_BUILD_KUBERNETES_START="$START"
  exec unshare --mount --propagation private -- "$SCRIPT" "$@"
fi

# ---------------------------------------------------------------------------------------------------
# Inside the private mount namespace.
mkdir -p "$(dirname "$BUILD_DIR")" "$(dirname "$OUT_DIR")"
exec 9<"$(dirname "$BUILD_DIR")"
if ! flock -n 9; then
  say "waiting for another build-kubernetes run using $(dirname "$BUILD_DIR")"
  flock 9
  check_existing_output
fi

# Mount points under a directory, deepest first.
mounts_under() { findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1 || $0 == d' | sort -r; }

if [ -n "$(mounts_under "$BUILD_DIR")" ]; then
  die "something is mounted under $BUILD_DIR (not by this run): $(mounts_under "$BUILD_DIR" | tr '\n' ' ')- unmount it first"
fi
avail_kb=$(df -Pk "$(dirname "$BUILD_DIR")" | awk 'NR == 2 { print $4 }')
[ "$avail_kb" -ge "$MIN_FREE_KB" ] ||
  die "only $((avail_kb / 1024)) MiB free under $(dirname "$BUILD_DIR"); the build needs about $((MIN_FREE_KB / 1024)) MiB"

# Debian mirror: $MIRROR, else the first non-security URI of this machine's apt sources.
find_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    uri=$(awk '$1 == "deb" || $1 == "deb-src" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { if ($i !~ /security/) print $i; break } }' "$f" | head -n1)
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  echo http://deb.debian.org/debian
}
MIRROR=${MIRROR:-$(find_mirror)}
MIRROR=${MIRROR%/}
POOL=$MIRROR/pool/main/k/$SRC_PKG

# ---------------------------------------------------------------------------------------------------
# Steps: each runs in the background in its own process group (job control on for the launch only)
# with its output in LOG_DIR/NN-<step>.log, so a signal to this script can stop it and the failing
# step is named.
STEP_NO=0
STEP_PID=
CURRENT_STEP=
CURRENT_LOG=
TMP_OUT=
OLD_OUT=
SUCCESS=0

run_step() {
  local name=$1 t0 rc=0
  shift
  STEP_NO=$((STEP_NO + 1))
  CURRENT_STEP=$name
  CURRENT_LOG=$(printf '%s/%02d-%s.log' "$LOG_DIR" "$STEP_NO" "${name// /-}")
  t0=$(date +%s)
  say "$name ..."
  set -m
  "$@" >"$CURRENT_LOG" 2>&1 </dev/null &
  STEP_PID=$!
  set +m
  wait "$STEP_PID" || rc=$?
  STEP_PID=
  if [ "$rc" -ne 0 ]; then
    say "FAILED: step '$name' (exit $rc after $(($(date +%s) - t0)) s); its log: $CURRENT_LOG" >&2
    echo "---- last lines of $CURRENT_LOG ----" >&2
    tail -n 30 "$CURRENT_LOG" >&2 || true
    echo "----" >&2
    exit 1
  fi
  say "$name done ($(($(date +%s) - t0)) s)"
}

# Processes whose root is the chroot: all were started by this run.
chroot_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$CHROOT" ] && echo "${p#/proc/}"
  done
  return 0
}

stop_processes() {
  local i pids
  if [ -n "$STEP_PID" ]; then
    kill -TERM -- "-$STEP_PID" 2>/dev/null || true
  fi
  for i in $(seq 1 20); do
    pids=$(chroot_pids)
    if [ -n "$STEP_PID" ] && kill -0 -- "-$STEP_PID" 2>/dev/null; then pids="$pids $STEP_PID"; fi
    [ -n "${pids// /}" ] || break
    # shellcheck disable=SC2086 # a list of pids
    if [ "$i" -lt 20 ]; then kill -TERM $pids 2>/dev/null || true; else kill -KILL $pids 2>/dev/null || true; fi
    sleep 0.5
  done
  if [ -n "$STEP_PID" ]; then kill -KILL -- "-$STEP_PID" 2>/dev/null || true; fi
  STEP_PID=
}

unmount_all() {
  local m
  for m in $(mounts_under "$BUILD_DIR"); do
    umount "$m" 2>/dev/null || umount --lazy "$m" || say "could not unmount $m" >&2
  done
  [ -z "$(mounts_under "$BUILD_DIR")" ]
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e
  stop_processes
  if ! unmount_all; then
    say "still mounted under $BUILD_DIR, leaving it in place: $(mounts_under "$BUILD_DIR" | tr '\n' ' ')" >&2
    exit 1
  fi
  [ -n "$TMP_OUT" ] && rm -rf -- "$TMP_OUT"
  [ -n "$OLD_OUT" ] && rm -rf -- "$OLD_OUT"
  if [ "${KEEP_BUILD:-0}" = 1 ]; then
    say "KEEP_BUILD=1: kept $BUILD_DIR (chroot: $CHROOT, source: $CHROOT$SRC_IN_CHROOT)"
  elif [ "$SUCCESS" = 1 ]; then
    rm -rf --one-file-system -- "$BUILD_DIR"
  elif [ -d "$BUILD_DIR" ]; then
    # Keep the logs of a failed run, drop the rest (set KEEP_BUILD=1 to keep the chroot for debugging).
    find "$BUILD_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf --one-file-system -- {} +
    say "build did not finish; logs kept in $LOG_DIR (KEEP_BUILD=1 keeps the chroot too)" >&2
  fi
  exit "$rc"
}

on_signal() {
  local during=
  [ -z "$CURRENT_STEP" ] || during=" during step '$CURRENT_STEP' (log: $CURRENT_LOG)"
  say "interrupted by SIG$1$during" >&2
  exit 130
}

trap cleanup EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

in_chroot() {
  chroot "$CHROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    PATH="$GO_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@"
}

# In the source tree, with the build environment of Debian's debian/rules (GOPATH layout, static).
# shellcheck disable=SC2016 # "$0" and "$@" are expanded by the inner bash
in_source() {
  in_chroot GOPATH=/build/go GO111MODULE=off GOFLAGS= GOPROXY=off GOSUMDB=off CGO_ENABLED=0 \
    KUBE_STATIC_OVERRIDES=kubelet KUBE_BUILD_PLATFORMS=linux/amd64 SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" \
    /bin/bash -c 'cd "$0" && exec "$@"' "$SRC_IN_CHROOT" "$@"
}

# --- step functions (run in the background, output to the step's log) ------------------------------

fetch_sources() {
  local dsc="${SRC_PKG}_${SRC_VERSION}.dsc" listed name sum file want
  mkdir -p "$BUILD_DIR/src"
  cd "$BUILD_DIR/src"
  curl -fsSL --retry 3 -o "$dsc" "$POOL/$dsc"
  cat "$dsc"
  # The file names (and their hashes) as the .dsc lists them.
  listed=$(awk '/^Checksums-Sha256:/ { s = 1; next } /^[^ ]/ { s = 0 } s && NF == 3 { print $1, $3 }' "$dsc")
  [ "$(echo "$listed" | wc -l)" -eq 2 ] || { echo "unexpected file list in $dsc: $listed"; return 1; }
  while read -r sum name; do
    case "$name" in
      "$ORIG_TARBALL") want=$ORIG_SHA256 ;;
      "$DEBIAN_TARBALL") want=$DEBIAN_SHA256 ;;
      *) echo "unexpected file $name in $dsc"; return 1 ;;
    esac
    [ "$sum" = "$want" ] || { echo "$dsc lists $name with sha256 $sum, expected $want"; return 1; }
    curl -fsSL --retry 3 -o "$name" "$POOL/$name"
  done <<<"$listed"
  for file in "$ORIG_TARBALL:$ORIG_SHA256" "$DEBIAN_TARBALL:$DEBIAN_SHA256"; do
    echo "${file#*:}  ${file%%:*}"
  done | sha256sum -c -
}

make_chroot() {
  debootstrap --variant=minbase --arch=amd64 "$SUITE" "$CHROOT" "$MIRROR"
}

install_build_deps() {
  mount -t proc proc "$CHROOT/proc"
  mount -t sysfs -o ro sysfs "$CHROOT/sys"
  mount --bind /dev "$CHROOT/dev"
  findmnt -R "$CHROOT" || true
  cp -L /etc/resolv.conf "$CHROOT/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$CHROOT/usr/sbin/policy-rc.d"
  chmod 0755 "$CHROOT/usr/sbin/policy-rc.d"
  # The archive's Release files are older than their Valid-Until on this machine's clock.
  in_chroot apt-get -q -o Acquire::Check-Valid-Until=false update
  in_chroot apt-get -q -y --no-install-recommends install "${CHROOT_PACKAGES[@]}"
  in_chroot apt-get clean
  in_chroot go version
  in_chroot go version | grep -q ' go1\.15\.' || { echo "expected Go 1.15 in the chroot"; return 1; }
}

unpack_source() {
  local dest=$CHROOT$SRC_IN_CHROOT
  mkdir -p "$dest"
  tar -xzf "$BUILD_DIR/src/$ORIG_TARBALL" -C "$dest" --strip-components=1 --no-same-owner
  tar -xJf "$BUILD_DIR/src/$DEBIAN_TARBALL" -C "$dest" --no-same-owner
  # Debian's quilt series, in order.
  local patch
  while read -r patch; do
    case "$patch" in '' | '#'*) continue ;; esac
    echo "applying debian/patches/$patch"
    in_chroot patch -d "$SRC_IN_CHROOT" -p1 --forward --batch -i "debian/patches/$patch"
  done <"$dest/debian/patches/series"
  grep -n "KUBE_GIT_COMMIT=\|tag: v" "$dest/hack/lib/version.sh" | head -n 3
}

generate() { in_source make generated_files; }

build_go_binary() { in_source hack/make-rules/build.sh "cmd/$1"; }

build_pause() {
  in_source gcc -Os -Wall -Werror -static -DVERSION="$PAUSE_VERSION" \
    -o _output/local/bin/linux/amd64/pause build/pause/linux/pause.c
  in_source strip _output/local/bin/linux/amd64/pause
}

check_binaries() {
  local bin=$SRC_IN_CHROOT/_output/local/bin/linux/amd64 name out
  for name in "${BINARIES[@]}"; do
    [ -f "$CHROOT$bin/$name" ] || { echo "missing $bin/$name"; return 1; }
    # Static: no program interpreter, no dynamic section.
    if in_chroot readelf -lW "$bin/$name" | grep -Eq 'INTERP|DYNAMIC'; then
      echo "$name is dynamically linked"
      return 1
    fi
    echo "$name: static"
  done
  out=$(in_chroot "$bin/kubeadm" version -o short)
  echo "kubeadm version -o short: $out"
  [ "$out" = "$VERSION" ] || { echo "kubeadm says $out, expected $VERSION"; return 1; }
  for name in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    out=$(in_chroot "$bin/$name" --version)
    echo "$name --version: $out"
    [ "$out" = "Kubernetes $VERSION" ] || { echo "$name says '$out', expected 'Kubernetes $VERSION'"; return 1; }
  done
  out=$(in_chroot "$bin/kubectl" version --client --short)
  echo "kubectl version --client --short: $out"
  [ "$out" = "Client Version: $VERSION" ] || { echo "unexpected kubectl version"; return 1; }
  out=$(in_chroot "$bin/pause" -v)
  echo "pause -v: $out"
  [ "$out" = "pause.c $PAUSE_VERSION" ] || { echo "unexpected pause version"; return 1; }
  in_chroot "$bin/kubeadm" version
}

package() {
  local bin=$CHROOT$SRC_IN_CHROOT/_output/local/bin/linux/amd64 name
  for name in "${BINARIES[@]}"; do
    install -m 0755 "$bin/$name" "$TMP_OUT/$name"
  done
  (cd "$TMP_OUT" && sha256sum -- "${BINARIES[@]}" >SHA256SUMS)
  cat "$TMP_OUT/SHA256SUMS"
  # One xz -3 per file (a single block each), as many at once as there are CPUs: -9 took 4.6 times as
  # long for files 13 % smaller, a quarter of the whole build's CPU time.
  printf '%s\0' "${BINARIES[@]/#/$TMP_OUT/}" | xargs -0 -n 1 -P "$(nproc)" xz -3 -T1 --
  chmod 0644 "$TMP_OUT"/*
  chmod 0755 "$TMP_OUT"
  ls -l "$TMP_OUT"
  out_is_complete "$TMP_OUT" || { echo "the packaged files do not match SHA256SUMS"; return 1; }
}

# ---------------------------------------------------------------------------------------------------
if [ -e "$BUILD_DIR" ]; then
  say "removing the previous build dir $BUILD_DIR"
  rm -rf --one-file-system -- "$BUILD_DIR"
fi
mkdir -p "$LOG_DIR" "$CHROOT"
say "building Kubernetes $VERSION from Debian source $SRC_PKG $SRC_VERSION (mirror $MIRROR)"
say "out: $OUT_DIR; build dir: $BUILD_DIR; logs: $LOG_DIR"

run_step "fetch source" fetch_sources
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date -d "$(tar -xJOf "$BUILD_DIR/src/$DEBIAN_TARBALL" debian/changelog |
  sed -n 's/^ -- .*>  //p' | head -n 1)" +%s)}
say "buildDate: $(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ) (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
run_step "debootstrap $SUITE" make_chroot
run_step "install build deps" install_build_deps
say "$(grep -m1 '^go version' "$CURRENT_LOG")"
run_step "unpack source" unpack_source
run_step "make generated_files" generate
for name in "${GO_BINARIES[@]}"; do
  run_step "build $name" build_go_binary "$name"
done
run_step "build pause" build_pause
run_step "check binaries" check_binaries
say "build dir uses $(du -sh --one-file-system "$BUILD_DIR" | cut -f1)"

TMP_OUT=$(mktemp -d "$(dirname "$OUT_DIR")/.$(basename "$OUT_DIR").tmp.XXXXXX")
run_step "package" package
if [ -e "$OUT_DIR" ]; then
  OLD_OUT=$(mktemp -d "$(dirname "$OUT_DIR")/.$(basename "$OUT_DIR").old.XXXXXX")
  mv -T -- "$OUT_DIR" "$OLD_OUT/previous"
fi
mv -T -- "$TMP_OUT" "$OUT_DIR"
TMP_OUT=
SUCCESS=1
say "built $OUT_DIR:"
(cd "$OUT_DIR" && du -b -- *.xz | awk '{ printf "  %-28s %6.1f MiB\n", $2, $1 / 1048576 }')
