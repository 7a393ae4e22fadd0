/**
 * Pure renderer for LoadBalancer's final check (kind haproxy), which its `endpoint` output waits for: on
 * every host, haproxy.service is active, a haproxy process listens on `port`, its loopback health port
 * answers 200, and, where the bind address is this host's own (or every address), `port` accepts
 * connections. A bind address the host does not hold (a VIP elsewhere at the moment) is only checked to
 * be listened on: connecting to it would reach another host.
 */
import { shAssignments, shFunctions, SH_RETRY, SH_TCP_OPEN } from "../../shell";
import { HAPROXY_HEALTH_PATH } from "../../contracts";
import { HaproxySettings } from "../settings";
import { START_TIMEOUT_SECONDS } from "./scripts";

/** HAProxy answers on this host. */
export function renderHaproxyReadyScript(s: HaproxySettings, host: string): string {
  const wildcard = s.bindAddress === "*" || s.bindAddress === "::";
  return [
    `# hakube LoadBalancer ${s.component}: does HAProxy answer on ${host}?`,
    "set -eu",
    shAssignments([
      ["BIND", s.bindAddress === "*" ? "127.0.0.1" : s.bindAddress === "::" ? "::1" : s.bindAddress],
      ["PORT", s.port],
      ["HEALTH_PORT", s.healthPort],
      ["TIMEOUT", START_TIMEOUT_SECONDS],
    ]),
    shFunctions(`hakube haproxy ${s.component}/${host}`),
    SH_RETRY,
    SH_TCP_OPEN,
    `listening() { ss -Hltnp "sport = :$PORT" | grep -q '"haproxy"'; }
healthy() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf "GET ${HAPROXY_HEALTH_PATH} HTTP/1.0\\r\\n\\r\\n" >&3 && head -n 1 <&3' "$HEALTH_PORT" 2>/dev/null | grep -q " 200"
}
retry "$TIMEOUT" "haproxy.service is not active (see journalctl -u haproxy)" systemctl is-active --quiet haproxy
retry "$TIMEOUT" "no haproxy process listens on port $PORT" listening
retry "$TIMEOUT" "HAProxy's health port 127.0.0.1:$HEALTH_PORT does not answer ${HAPROXY_HEALTH_PATH} with 200" healthy`,
    wildcard
      ? `retry "$TIMEOUT" "$BIND port $PORT does not accept connections" tcp_open "$BIND" "$PORT"
say "HAProxy answers on port $PORT"`
      : `if ip -o address show to "$BIND" | grep -q .; then
  retry "$TIMEOUT" "$BIND:$PORT does not accept connections" tcp_open "$BIND" "$PORT"
  say "HAProxy answers on $BIND:$PORT"
else
  say "HAProxy listens on port $PORT for $BIND, which another host holds at the moment"
fi`,
    "",
  ].join("\n");
}
