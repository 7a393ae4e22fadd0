/**
 * What the benchmarks do to and inside lab hosts: must-succeed commands, bounded CPU load, and a power
 * cut timed where it happens.
 */
import { exec, Lab, linkDown, linkUp, powerOff } from "../hosts";

/** Runs `cmd` inside a running host (nsenter); its stdout, or an error naming the host and command. */
export async function must(lab: Lab, host: string, cmd: string, timeoutMs = 30_000): Promise<string> {
  const r = await exec(lab, host, cmd, { timeoutMs });
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: rc ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Those of `hosts` that run now. */
export function runningOf(lab: Lab, hosts: readonly string[]): string[] {
  return hosts.filter((n) => lab.hosts.find((h) => h.name === n)?.running);
}

/**
 * `burners` busy loops inside each of `hosts`, each bounded by `seconds` (`timeout`); returns a function
 * that ends them early (by pid, on the hosts that still run). No burners: nothing is started.
 */
export async function cpuLoad(
  lab: Lab,
  hosts: readonly string[],
  seconds: number,
  burners: number,
): Promise<() => Promise<void>> {
  if (burners === 0) return async () => undefined;
  const started = await Promise.all(
    hosts.map(async (h) => {
      const out = await must(
        lab,
        h,
        `for i in $(seq ${burners}); do nohup timeout ${seconds} sh -c 'while :; do :; done' >/dev/null 2>&1 </dev/null & echo $!; done`,
      );
      return { h, pids: out.trim().split(/\s+/).join(" ") };
    }),
  );
  return async () => {
    await Promise.all(
      started
        .filter(({ h }) => runningOf(lab, [h]).length > 0)
        .map(({ h, pids }) => exec(lab, h, `kill ${pids} 2>/dev/null || true`)),
    );
  };
}

/**
 * Powers a host off (lab/hosts powerOff: its link cut, then its init killed), the link cut first on its
 * own so that the fault's time is known: `at`, taken just before the cut (the cut itself, `ip link set
 * down`, follows within `cutMs`, the time the call took; the power-off call would add a lab lock and state
 * writes before it). A figure measured from `at` is at most `cutMs` too long.
 */
export async function powerCut(lab: Lab, host: string): Promise<{ at: number; cutMs: number }> {
  const at = Date.now();
  await linkDown(lab, host);
  const cutMs = Date.now() - at;
  await powerOff(lab, host);
  // A stopped host has no link: this only clears the flag, so that it boots linked again.
  await linkUp(lab, host);
  return { at, cutMs };
}
