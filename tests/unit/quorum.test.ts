import { strict as assert } from "node:assert";
import { describeQuorum, faultTolerance, quorumSize } from "../../components/quorum";

describe("quorum", () => {
  const table: Array<[number, number, number]> = [
    [1, 1, 0],
    [2, 2, 0],
    [3, 2, 1],
    [4, 3, 1],
    [5, 3, 2],
    [6, 4, 2],
    [7, 4, 3],
    [9, 5, 4],
  ];
  for (const [n, q, f] of table) {
    it(`${n} members: quorum ${q}, tolerate ${f}`, () => {
      assert.equal(quorumSize(n), q);
      assert.equal(faultTolerance(n), f);
    });
  }
  it("refuses counts that are not positive integers", () => {
    assert.throws(() => quorumSize(0), /positive integer, got 0/);
    assert.throws(() => quorumSize(2.5), /got 2.5/);
  });
  it("describes the tolerance in words", () => {
    assert.equal(describeQuorum(1), "1 member needs a quorum of 1 and tolerates no failure");
    assert.equal(describeQuorum(3), "3 members need a quorum of 2 and tolerate 1 failure");
    assert.equal(describeQuorum(5), "5 members need a quorum of 3 and tolerate 2 failures");
  });
});
