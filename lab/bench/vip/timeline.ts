/** The VIP's holders over time, from the add and delete events that `ip monitor` saw (monitor.ts). */

/** One host took (`held`) or lost the VIP at `at` (ms since the epoch). */
export interface VipEvent {
  host: string;
  at: number;
  held: boolean;
}

export class Timeline {
  /** State changes only (an event that repeats a host's state is dropped), in time order. */
  readonly changes: VipEvent[] = [];

  constructor(events: VipEvent[]) {
    const held = new Set<string>();
    for (const e of [...events].sort((a, b) => a.at - b.at)) {
      if (e.held === held.has(e.host)) continue;
      if (e.held) held.add(e.host);
      else held.delete(e.host);
      this.changes.push(e);
    }
  }

  private acquisitions(from: number, to = Infinity): VipEvent[] {
    return this.changes.filter((e) => e.held && e.at >= from && e.at <= to);
  }

  /** VIP moves: a host that did not hold the VIP takes it, in [from, to]. */
  moves(from: number, to: number): number {
    return this.acquisitions(from, to).length;
  }

  /**
   * Moves in [from, to] that lasted: takes that are not blips. A blip is a take released within `blipMs`
   * while another host held the VIP at some moment of it: a second holder that VRRP's own election removed
   * at the first advertisement of the higher priority (two backups whose master-down timers expired
   * together, or a backup that missed three advertisements of a holder that kept the VIP). The VIP did not
   * move then; the requests it broke are still counted by whoever checks the failed requests.
   */
  lastingMoves(from: number, to: number, blipMs: number): VipEvent[] {
    return this.acquisitions(from, to).filter((e) => !this.isBlip(e, blipMs));
  }

  /** The blips (see lastingMoves) among the takes in [from, to]. */
  blips(from: number, to: number, blipMs: number): VipEvent[] {
    return this.acquisitions(from, to).filter((e) => this.isBlip(e, blipMs));
  }

  private isBlip(take: VipEvent, blipMs: number): boolean {
    const i = this.changes.indexOf(take);
    const j = this.changes.findIndex((x, k) => k > i && x.host === take.host && !x.held);
    if (j < 0 || this.changes[j].at - take.at >= blipMs) return false;
    // Replay the changes up to the release: did another host hold the VIP while this one did?
    const held = new Set<string>();
    for (let k = 0; k < j; k++) {
      const e = this.changes[k];
      if (e.held) held.add(e.host);
      else held.delete(e.host);
      if (k >= i && [...held].some((h) => h !== take.host)) return true;
    }
    return false;
  }

  /** The first time at or after `from` that a host other than `except` took the VIP. */
  firstAcquired(from: number, except?: string): number | undefined {
    return this.acquisitions(from).find((e) => e.host !== except)?.at;
  }

  /** The time of the last move in [from, to]. */
  lastMove(from: number, to: number): number | undefined {
    return this.acquisitions(from, to).pop()?.at;
  }

  /**
   * When the holders became exactly one for good within [from, to]: the last change in the window if one
   * host holds the VIP at `to` (`from` if nothing changed); undefined if not exactly one holds it then.
   */
  settledAt(from: number, to: number): number | undefined {
    const held = new Set<string>();
    let last: number | undefined;
    for (const e of this.changes.filter((x) => x.at <= to)) {
      if (e.held) held.add(e.host);
      else held.delete(e.host);
      if (e.at >= from) last = e.at;
    }
    return held.size === 1 ? (last ?? from) : undefined;
  }
}
