/** Golden files under tests/golden/: compare exactly; `UPDATE_GOLDEN=1` rewrites them (review the diff!). */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

const dir = path.join(__dirname, "..", "..", "golden");

export function assertGolden(name: string, actual: string): void {
  const file = path.join(dir, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  assert.ok(
    fs.existsSync(file),
    `golden file ${file} is missing; run the tests once with UPDATE_GOLDEN=1 and review it`,
  );
  assert.equal(actual, fs.readFileSync(file, "utf8"), `${name} differs from its golden file`);
}
