/** The longest gap between acknowledged writes that the etcd benchmarks report (lab/etcdWrites.ts). */
import { strict as assert } from "node:assert";
import { longestAckGap, Write } from "../../lab/etcdWrites";

const w = (at: number, end: number, ok = true): Write => ({ key: `k${at}`, value: "v", at, end, ok });

describe("longestAckGap", () => {
  it("measures between the returns of successful writes, not their starts, and skips failed ones", () => {
    // Writes started every 100 ms; those started at 300-600 wait for the cluster and return at 1500.
    const writes = [w(0, 50), w(100, 150), w(200, 250), w(300, 1500), w(400, 1500), w(500, 3400, false)];
    writes.push(w(600, 1510), w(700, 1520));
    assert.deepEqual(longestAckGap(writes, 0, 2000), { ms: 1250, endedAt: 1500 });
  });

  it("counts only gaps that end within the window", () => {
    const writes = [w(0, 50), w(100, 2050), w(2100, 2150), w(2200, 2700)];
    assert.deepEqual(longestAckGap(writes, 2100, 3000), { ms: 550, endedAt: 2700 });
    assert.ok(Number.isNaN(longestAckGap(writes, 5000, 6000).ms));
  });
});
