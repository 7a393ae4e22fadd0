/**
 * Pure helpers for the shell scripts that components send to hosts. Scripts are POSIX sh, start with
 * `set -eu`, and are idempotent: running one twice on a host in the wanted state changes nothing.
 */

/** Quote a value for POSIX sh: single quotes, with embedded single quotes closed and escaped. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `NAME='value'` lines for the variables a script reads, in the given order. */
export function shAssignments(vars: ReadonlyArray<readonly [string, string | number]>): string {
  return vars.map(([k, v]) => `${k}=${shQuote(String(v))}`).join("\n");
}

/** A heredoc delimiter that cannot occur in content (checked, not assumed). */
export const HEREDOC_END = "HAKUBE_EOF";

/**
 * A heredoc feeding `command`, with a quoted delimiter so that nothing in `content` is expanded.
 * Throws if the content contains the delimiter line.
 */
export function heredoc(command: string, content: string): string {
  if (content.split("\n").includes(HEREDOC_END)) {
    throw new Error(`content must not contain a line "${HEREDOC_END}"`);
  }
  const body = content.endsWith("\n") ? content : `${content}\n`;
  return `${command} <<'${HEREDOC_END}'\n${body}${HEREDOC_END}`;
}

/** A file that a script installs on a host. */
export interface HostFile {
  path: string;
  /** Octal mode, e.g. "0600". */
  mode: string;
  /** "user:group". */
  owner: string;
  content: string;
}

/**
 * The stdin bundle for secret files: one line per file, `PATH MODE OWNER BASE64`. Base64 keeps the
 * content on one line whatever it holds, so the reading loop needs nothing but `read` and `base64 -d`.
 */
export function renderFileBundle(files: readonly HostFile[]): string {
  return files
    .map((f) => {
      if (/\s/.test(f.path) || /\s/.test(f.owner) || !/^0[0-7]{3}$/.test(f.mode)) {
        throw new Error(`bad file entry ${JSON.stringify({ path: f.path, mode: f.mode, owner: f.owner })}`);
      }
      return `${f.path} ${f.mode} ${f.owner} ${Buffer.from(f.content, "utf8").toString("base64")}\n`;
    })
    .join("");
}

/**
 * Shell functions shared by the scripts:
 * - `say`/`fail` prefix messages with the component and host;
 * - `put PATH MODE OWNER` installs stdin as PATH atomically (write beside it, then rename) and records in
 *   $CHANGED whether anything differed, so an unchanged file is left alone (no restart, no mtime change);
 * - `quorum N` is floor(N/2)+1, the same as quorumSize() in components/quorum.ts.
 */
export function shFunctions(prefix: string): string {
  return `say() { printf '%s: %s\\n' ${shQuote(prefix)} "$*"; }
fail() { printf '%s: %s\\n' ${shQuote(prefix)} "$*" >&2; exit 1; }
quorum() { echo $(( $1 / 2 + 1 )); }
CHANGED=0
put() {
  _new="$1.hakube-new"
  (umask 077 && cat > "$_new")
  chmod "$2" "$_new" && chown "$3" "$_new"
  if [ -f "$1" ] && cmp -s "$_new" "$1" && [ "$(stat -c '%a %U:%G' "$1")" = "$(stat -c '%a %U:%G' "$_new")" ]; then
    rm -f "$_new"
  else
    mv -f "$_new" "$1"
    CHANGED=1
    say "wrote $1"
  fi
}`;
}

/** The shell that reads a {@link renderFileBundle} from stdin and `put`s every file. */
export const SH_PUT_BUNDLE_FROM_STDIN = `while read -r _path _mode _owner _data; do
  [ -n "$_path" ] || continue
  (umask 077 && printf '%s' "$_data" | base64 -d > "$_path.hakube-in")
  put "$_path" "$_mode" "$_owner" < "$_path.hakube-in"
  rm -f "$_path.hakube-in"
done`;

/**
 * Install `content` as $CONFIG only if `check` accepts it: it is written beside the file in use, checked
 * with `<check> -f <file>` (e.g. `"$HAPROXY" -c`, `"$KEEPALIVED" -t`), and `put` into place only then, so
 * a refused configuration leaves the one in use untouched. Needs `put` and `fail` (shFunctions) and
 * $CONFIG; `label` names the check in the error ("haproxy -c").
 */
export function shCheckedPutConfig(check: string, label: string, content: string): string {
  return [
    `tmp="$CONFIG.hakube-test"
trap 'rm -f "$tmp"' EXIT`,
    heredoc(`(umask 022 && cat > "$tmp")`, content),
    `if ! out=$(${check} -f "$tmp" 2>&1); then
  fail "${label} rejected the new configuration; $CONFIG is unchanged:
$out"
fi
put "$CONFIG" 0644 root:root < "$tmp"`,
  ].join("\n");
}

/**
 * Wait (at most $TIMEOUT s, then `fail`) until the systemd unit `unit` is active after a (re)start.
 * Needs $TIMEOUT and `fail` (shFunctions).
 */
export function shWaitActive(unit: string): string {
  return `deadline=$(( $(date +%s) + TIMEOUT ))
until systemctl is-active --quiet ${unit}; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "${unit} is not active $TIMEOUT s after the start; see journalctl -u ${unit}"
  sleep 1
done`;
}

/**
 * `tcp_open HOST PORT`: true if a TCP connection to HOST:PORT opens within 3 s (bash's /dev/tcp, so
 * nothing else need be installed; IPv6 addresses without brackets). Needs `fail` (shFunctions).
 */
export const SH_TCP_OPEN = `command -v bash >/dev/null 2>&1 || fail "bash is not installed: the check opens TCP connections with it"
tcp_open() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }`;

/**
 * \`retry SECONDS WHAT COMMAND...\`: run COMMAND once a second until it succeeds, or \`fail\` after SECONDS
 * saying WHAT did not happen. Needs \`fail\` (shFunctions).
 */
export const SH_RETRY = `retry() {
  _limit=$1 _what=$2
  shift 2
  _deadline=$(( $(date +%s) + _limit ))
  until "$@"; do
    [ "$(date +%s)" -lt "$_deadline" ] || fail "$_what after $_limit s"
    sleep 1
  done
}`;
