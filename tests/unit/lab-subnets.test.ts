/**
 * Labs made by the tests and benchmarks never share a subnet or a name: a lab one run leaves behind (a
 * killed benchmark) must not make another run's createLab fail on "subnet already used" (it did once, when
 * the cluster benchmark and the packages test both took 10.77.12.0/24).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { LAB_NAMES, LAB_SUBNETS } from "../../lab/hosts/subnets";

const ROOT = path.resolve(__dirname, "../..");

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith(".ts") ? [rel] : [];
  });
}

describe("lab subnets", () => {
  it("gives every lab its own subnet, also the one the hosts test must be refused", () => {
    const taken: number[] = Object.values(LAB_SUBNETS);
    assert.equal(new Set(taken).size, taken.length, `a subnet is used twice: ${taken.join(", ")}`);
    assert.ok(!taken.includes(LAB_SUBNETS.hostsTest + 1), "hostsTest + 1 must stay free");
    for (const i of taken) assert.ok(Number.isInteger(i) && i >= 0 && i <= 255, `subnet index ${i}`);
  });

  it("gives every lab its own name", () => {
    const names = Object.values(LAB_NAMES);
    assert.equal(new Set(names).size, names.length, `a name is used twice: ${names.join(", ")}`);
  });

  it("is the only place tests and benchmarks take a subnet or lab name from", () => {
    const literal = /(subnetIndex:\s*\d|SUBNET(_INDEX)?\s*=\s*\d|const (LAB|NAME)\s*=\s*")/;
    const offenders = [...sources("tests/lab"), ...sources("lab/bench")].filter((f) =>
      literal.test(fs.readFileSync(path.join(ROOT, f), "utf8")),
    );
    assert.deepEqual(offenders, [], "use LAB_SUBNETS / LAB_NAMES from lab/hosts/subnets.ts");
  });
});
