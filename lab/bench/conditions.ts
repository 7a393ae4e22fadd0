/**
 * What the machine was doing while a lab suite ran, printed under its table: the load average and the
 * labs that ran at the same time (their bridges, the suite's own included). On a 2-core machine shared with other lab runs,
 * the figures mean little without it.
 */
import * as os from "node:os";
import { median } from "./stats";

/** How often the load average is sampled. */
const EVERY_MS = 10_000;

export class Conditions {
  private readonly load: number[] = [];
  private readonly labs = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.sample();
    this.timer = setInterval(() => this.sample(), EVERY_MS);
    this.timer.unref();
  }

  private sample(): void {
    this.load.push(os.loadavg()[0]);
    for (const name of Object.keys(os.networkInterfaces())) if (name.startsWith("hk-")) this.labs.add(name);
  }

  /** One line: "... load average (1 min) median 30.1 (12.3-43.6); lab bridges seen: hk-b-vip, hk-lab". */
  stop(): string {
    clearInterval(this.timer);
    this.sample();
    const l = (v: number) => v.toFixed(1);
    const labs = this.labs.size ? [...this.labs].sort().join(", ") : "none";
    return (
      `machine (${os.cpus().length} cores): load average (1 min) median ${l(median(this.load))} ` +
      `(${l(Math.min(...this.load))}-${l(Math.max(...this.load))}); lab bridges seen meanwhile: ${labs}`
    );
  }
}

/**
 * The lab suites' process is the client whose requests are measured: it stands for a machine of its own,
 * so it must not wait for the CPU behind the lab's hosts (or other work on this machine). It asks for a
 * higher scheduling priority (nice -10; it needs little CPU, but at once). Best effort.
 */
export function raiseClientPriority(log: (l: string) => void): void {
  try {
    os.setPriority(-10);
  } catch (e) {
    log(`(could not raise this process's priority: ${(e as Error).message})`);
  }
}
