/**
 * The host-step layer (components/steps.ts): the order it gives the commands, read from the dependencies
 * the SDK registers.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { hostSteps, Rollout } from "../../components/steps";
import { CMD, Recorder, unwrap } from "./helpers/mocks";

const connection = { host: "10.0.0.1", user: "root", privateKey: "k" };

class Parent extends pulumi.ComponentResource {
  constructor() {
    super("hakube:test:Parent", "p", {});
  }
}

describe("host steps", () => {
  it("orders each host's steps, chains serial steps across hosts, and adds each step's `after`", async () => {
    const rec = new Recorder();
    await rec.install();
    const parent = new Parent();
    const hosts = ["h1", "h2", "h3"].map((name) => ({ name, connection }));
    const [before] = hostSteps(
      "c",
      hosts,
      [{ step: "prepare", rollout: Rollout.Parallel, args: () => ({ create: "p" }) }],
      {
        opts: { parent },
      },
    );
    const [gate] = hostSteps(
      "c",
      hosts.slice(0, 1),
      [{ step: "gate", rollout: Rollout.Parallel, args: () => ({ create: "g" }) }],
      {
        opts: { parent },
      },
    );
    const [installs, configures, checks] = hostSteps(
      "c",
      hosts,
      [
        { step: "install", rollout: Rollout.Parallel, args: (i) => ({ create: `install ${i}` }) },
        { step: "configure", rollout: Rollout.Serial, args: (i) => ({ create: `configure ${i}` }) },
        { step: "check", rollout: Rollout.Parallel, after: gate, args: () => ({ create: "check" }) },
      ],
      { opts: { parent }, hostAfter: (i) => [before[i]], chainAfter: gate[0] },
    );
    await rec.idle();
    assert.deepEqual(
      [installs, configures, checks].map((s) => s.length),
      [3, 3, 3],
    );
    const deps = (name: string) => [...(rec.dependencies.get(name) ?? [])].sort();
    assert.deepEqual(deps("c-h1-install"), ["c-h1-prepare"]);
    assert.deepEqual(deps("c-h2-install"), ["c-h2-prepare"]);
    assert.deepEqual(deps("c-h1-configure"), ["c-h1-gate", "c-h1-install"]);
    assert.deepEqual(deps("c-h2-configure"), ["c-h1-configure", "c-h2-install"]);
    assert.deepEqual(deps("c-h3-configure"), ["c-h2-configure", "c-h3-install"]);
    assert.deepEqual(deps("c-h3-check"), ["c-h1-gate", "c-h3-configure"]);
    const inputs = unwrap(rec.get("c-h2-configure").inputs) as Record<string, unknown>;
    assert.equal(inputs.create, "configure 1");
    assert.equal(inputs.addPreviousOutputInEnv, false, "every command gets COMMAND_DEFAULTS");
    assert.equal(rec.byType(CMD).length, 3 + 1 + 9);
  });
});
