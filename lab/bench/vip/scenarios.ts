/** What the VIP benchmark's scenarios are, and what one try of one of them yields. */
import { W } from "./profiles";

/** One try of one scenario. `censored`: the thing did not happen within the bound (value = the bound). */
export interface Figure {
  failoverMs?: number;
  failoverCensored?: boolean;
  failedPct: number;
  moves: number;
  /** The scenario's extra figures by key; `c`: a bound, as for the failover. */
  extras?: Record<string, { v: number; c?: boolean }>;
  /** The failed requests' errors (for the progress log). */
  errors?: string[];
  /** The longest stall of this process's event loop meanwhile (the client side of the requests). */
  lagMs?: number;
}

export type ScenarioKey = "s1" | "s2" | "s3" | "s4" | "s5" | "s6";

/** A figure a scenario adds to the common ones, in seconds ("s") or as a count ("n"). */
export interface Extra {
  key: string;
  label: string;
  unit: "s" | "n";
}

export interface Scenario {
  key: ScenarioKey;
  title: string;
  /** What the failover column means here. */
  failover: string;
  /** Which requests the failed share counts. */
  window: string;
  extras: Extra[];
}

const define = (key: ScenarioKey, title: string, failover: string, window: string, extras: Extra[] = []) => ({
  key,
  title,
  failover,
  window,
  extras,
});
const extra = (key: string, label: string, unit: Extra["unit"]): Extra => ({ key, label, unit });

/** Each: key, title, what the failover column means, which requests the failed share counts, extras. */
export const SCENARIOS: Scenario[] = [
  define(
    "s1",
    "1. host death (holder powered off)",
    "another host holds the VIP and a request through it succeeded",
    "requests started in the 6 s after the fault",
    [extra("acquired", "VIP on another host after (s)", "s"), extra("slowest", "slowest request (s)", "s")],
  ),
  define(
    "s2",
    "2. API server stopped on the holder",
    "longest stretch of failing requests (first failure's start to the next success's end; 0: none failed)",
    "requests until the VIP moved (+1 s) or the watch ended (6 s; Platform9 85 s)",
    [extra("moved", "VIP moved after (s)", "s")],
  ),
  define(
    "s3",
    "3. API server stopped on a non-holder",
    "longest stretch of failing requests (as in 2)",
    "requests until the holder's HAProxy marked it DOWN (at least 6 s)",
    [
      extra("down", "holder's HAProxy marked it DOWN after (s)", "s"),
      extra("slowest", "slowest request (s)", "s"),
    ],
  ),
  define(
    "s4",
    "4. keepalived SIGKILL on the holder",
    "exactly one holder from then on (within 6 s)",
    "requests in the 6 s after the kill",
    [extra("at2s", "holders 2 s after", "n"), extra("atEnd", "holders 6 s after", "n")],
  ),
  define(
    "s5",
    "5. dead master powered on again",
    "last VIP move (no sample: it did not move)",
    "requests in the 20 s after the power-on",
  ),
  define(
    "s6",
    `6. no fault, heavy CPU load (${W.heavyBurners} busy loops per master)`,
    "none (nothing failed)",
    `requests in the ${W.idle / 1000} s of load`,
    [extra("masters", "keepalived MASTER transitions", "n")],
  ),
];

export function scenario(key: ScenarioKey): Scenario {
  return SCENARIOS.find((s) => s.key === key)!;
}
