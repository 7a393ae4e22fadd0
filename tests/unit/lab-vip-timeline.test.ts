/**
 * The VIP timeline's moves and blips (lab/bench/vip/timeline.ts), on the event sequences seen in lab runs:
 * a blip is a second holder that VRRP's election removed within a few ms; a take that lasts, or one with
 * no other holder beside it, is a move.
 */
import { strict as assert } from "node:assert";
import { Timeline, VipEvent } from "../../lab/bench/vip/timeline";

const BLIP_MS = 50;
const ev = (host: string, at: number, held: boolean): VipEvent => ({ host, at, held });

describe("lab VIP timeline", () => {
  it("counts a backup's 0 ms take beside the holder as a blip, not a move (CI, flap test)", () => {
    // m2 held, m1 came back and took it (one move), then m3 missed m1's adverts and held it for 0 ms.
    const t = new Timeline([
      ev("m2", 1000, true),
      ev("m2", 10_814, false),
      ev("m1", 11_288, true),
      ev("m3", 24_404, true),
      ev("m3", 24_404, false),
    ]);
    assert.deepEqual(
      t.lastingMoves(5000, 30_000, BLIP_MS).map((e) => e.host),
      ["m1"],
    );
    assert.deepEqual(
      t.blips(5000, 30_000, BLIP_MS).map((e) => e.host),
      ["m3"],
    );
    assert.equal(t.moves(5000, 30_000), 2);
  });

  it("counts the lower of two backups that took the VIP together as a blip, whichever took it first", () => {
    const m3First = new Timeline([
      ev("m1", 0, true),
      ev("m1", 100, false),
      ev("m3", 400, true),
      ev("m2", 403, true),
      ev("m3", 405, false),
    ]);
    assert.deepEqual(
      m3First.lastingMoves(50, 1000, BLIP_MS).map((e) => e.host),
      ["m2"],
    );
    const m2First = new Timeline([
      ev("m1", 0, true),
      ev("m1", 100, false),
      ev("m2", 400, true),
      ev("m3", 403, true),
      ev("m3", 405, false),
    ]);
    assert.deepEqual(
      m2First.lastingMoves(50, 1000, BLIP_MS).map((e) => e.host),
      ["m2"],
    );
  });

  it("counts a short take with no other holder beside it as a move", () => {
    // The VIP gone from everyone while m3 held it briefly: a real move away and back.
    const t = new Timeline([
      ev("m1", 0, true),
      ev("m1", 100, false),
      ev("m3", 110, true),
      ev("m3", 120, false),
      ev("m1", 130, true),
    ]);
    assert.deepEqual(
      t.lastingMoves(50, 1000, BLIP_MS).map((e) => e.host),
      ["m3", "m1"],
    );
    assert.deepEqual(t.blips(50, 1000, BLIP_MS), []);
  });

  it("counts a second holder that stays as long as the limit, or never leaves, as a move", () => {
    const long = new Timeline([ev("m1", 0, true), ev("m2", 100, true), ev("m2", 100 + BLIP_MS, false)]);
    assert.deepEqual(
      long.lastingMoves(50, 1000, BLIP_MS).map((e) => e.host),
      ["m2"],
    );
    const stays = new Timeline([ev("m1", 0, true), ev("m2", 100, true)]);
    assert.deepEqual(
      stays.lastingMoves(50, 1000, BLIP_MS).map((e) => e.host),
      ["m2"],
    );
  });
});
