import { strict as assert } from "node:assert";
import {
  hostListProblems,
  isDnsLabel,
  isIP,
  isIPv4,
  isIPv6,
  isPort,
  notAnObject,
  show,
  urlHost,
} from "../../components/validation";

describe("shared validators", () => {
  it("accepts DNS labels and refuses the rest", () => {
    for (const ok of ["m1", "a", "etcd-0", "x".repeat(63)]) assert.ok(isDnsLabel(ok), ok);
    for (const bad of ["", "M1", "-a", "a-", "a_b", "a.b", "x".repeat(64), 3])
      assert.ok(!isDnsLabel(bad), String(bad));
  });
  it("tells IPv4 from IPv6 from garbage", () => {
    assert.ok(isIPv4("10.0.0.11"));
    for (const bad of ["10.0.0.256", "10.0.0", "010.0.0.1", "a.b.c.d", "10.0.0.1/24"])
      assert.ok(!isIPv4(bad), bad);
    for (const ok of ["::1", "fd00::11", "2001:db8::1"]) assert.ok(isIPv6(ok), ok);
    for (const bad of ["fd00::11::1", "fd00:zz::1", "10.0.0.1"]) assert.ok(!isIPv6(bad), bad);
    assert.ok(isIP("fd00::1") && isIP("1.2.3.4") && !isIP("host"));
  });
  it("checks ports", () => {
    assert.ok(isPort(1) && isPort(65535));
    assert.ok(!isPort(0) && !isPort(65536) && !isPort(2379.5) && !isPort("2379"));
  });
  it("brackets IPv6 in URLs", () => {
    assert.equal(urlHost("fd00::1"), "[fd00::1]");
    assert.equal(urlHost("10.0.0.1"), "10.0.0.1");
  });
  it("shows values in messages", () => {
    assert.equal(show("a"), '"a"');
    assert.equal(show(4), "4");
    assert.equal(show(undefined), "undefined");
  });
  it("lists every host problem with its path", () => {
    const problems = hostListProblems(
      [
        { name: "m1", address: "10.0.0.1", connection: { host: "10.0.0.1" } },
        { name: "m1", address: "10.0.0.1", connection: { host: "10.0.0.1" } },
        { name: "Bad_Name", address: "10.0.0.300", connection: { host: "10.0.0.300" } },
      ],
      "members",
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ["members[1].name", "members[1].address", "members[2].name", "members[2].address"],
    );
    assert.equal(problems[0].message, 'members[1].name "m1" is already used by members[0]');
    assert.equal(problems[1].message, 'members[1].address "10.0.0.1" is already used by members[0]');
    assert.match(problems[2].message, /^members\[2\]\.name must be a DNS label .* got "Bad_Name"$/);
    assert.equal(problems[3].message, 'members[2].address must be an IPv4 or IPv6 address, got "10.0.0.300"');
  });
  it("takes two spellings of one IPv6 address for one address", () => {
    const problems = hostListProblems(
      [
        { name: "m1", address: "fd00::1", connection: { host: "fd00::1" } },
        { name: "m2", address: "fd00:0::1", connection: { host: "fd00:0::1" } },
        { name: "m3", address: "fd00::2", connection: { host: "fd00::2" } },
      ],
      "members",
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      ['members[1].address "fd00:0::1" is already used by members[0]'],
    );
  });
  it("refuses args that are no object, a list included, naming what it wants", () => {
    for (const bad of [undefined, null, 3, "x", []]) {
      assert.deepEqual(notAnObject(bad, "members")?.errors, [
        { path: "", message: `args must be an object with members, got ${show(bad)}` },
      ]);
    }
    assert.equal(notAnObject({}, "members"), undefined);
  });
  it("refuses an empty or missing list", () => {
    assert.equal(hostListProblems([], "members")[0].message, "members must list at least one host, got []");
    assert.equal(
      hostListProblems(undefined, "members")[0].message,
      "members must list at least one host, got undefined",
    );
  });
});
