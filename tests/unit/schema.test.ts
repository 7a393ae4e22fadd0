/**
 * Other Pulumi languages use hakube through the component provider that PulumiPlugin.yaml makes of the
 * npm package: Pulumi's analyzer (`@pulumi/pulumi/provider/experimental`) reads the exported components'
 * args from the TypeScript sources. It must accept every component: `args` typed by an interface, enums
 * as `const` objects with string-literal union types, Inputs where values flow from other resources.
 *
 * The schema it infers is what `pulumi package add` gives Python, Go and C# programs: it is kept, reviewed,
 * in schema.json, and a change of it fails here until schema.json is updated on purpose
 * (`npm run schema:update`, which runs this file with HAKUBE_UPDATE_SCHEMA=1).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as hakube from "../../index";

interface Property {
  plain?: boolean;
  $ref?: string;
  type?: string;
  description?: string;
}

interface Schema {
  resources: Record<
    string,
    {
      description?: string;
      inputProperties: Record<string, Property>;
      properties: Record<string, Property>;
    }
  >;
  types: Record<
    string,
    {
      type: string;
      enum?: Array<{ name: string; value: string }>;
      properties?: Record<string, Property>;
    }
  >;
}

const ROOT = path.resolve(__dirname, "../..");
const SCHEMA_FILE = path.join(ROOT, "schema.json");

/** The paths (a.b.c) where two JSON values differ. */
function differences(a: unknown, b: unknown, at = ""): string[] {
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    if (Array.isArray(a) !== Array.isArray(b)) return [at || "(root)"];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) =>
      differences(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        at ? `${at}.${k}` : k,
      ),
    );
  }
  return a === b ? [] : [at || "(root)"];
}

/** A camelCase schema name as the Python SDK spells it. */
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Each `<var> = hakube.<Resource>(...)` of a Python program: the variable, the resource, its keyword arguments. */
function pythonConstructions(code: string): Array<{ variable: string; resource: string; kwargs: string[] }> {
  const out: Array<{ variable: string; resource: string; kwargs: string[] }> = [];
  for (const m of code.matchAll(/(\w+) = hakube\.(\w+)\(/g)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const args: string[] = [""];
    for (; depth > 0; i++) {
      const c = code[i];
      if ("([{".includes(c)) depth++;
      if (")]}".includes(c)) depth--;
      if (c === "," && depth === 1) args.push("");
      else if (depth > 0) args[args.length - 1] += c;
    }
    const kwargs = args.flatMap((a) => /^\s*(\w+)=/.exec(a)?.[1] ?? []);
    out.push({ variable: m[1], resource: m[2], kwargs });
  }
  return out;
}

/** Every input and output property, of the resources and of the object types, with the description it has. */
function propertyDescriptions(schema: Schema): Array<[string, string | undefined]> {
  const props = (owner: string, ps: Record<string, Property> | undefined) =>
    Object.entries(ps ?? {}).map(([n, p]): [string, string | undefined] => [`${owner}.${n}`, p.description]);
  return [
    ...Object.entries(schema.resources).flatMap(([name, r]) => [
      ...props(`${name} input`, r.inputProperties),
      ...props(`${name} output`, r.properties),
    ]),
    ...Object.entries(schema.types).flatMap(([name, t]) => props(name, t.properties)),
  ];
}

describe("component provider schema (Pulumi's analyzer)", function () {
  this.timeout(300000);
  let schema: Schema;
  before(async () => {
    const provider = new ComponentProvider({
      components: getPulumiComponents(hakube),
      dirname: ROOT,
      name: "hakube",
    });
    schema = JSON.parse(await provider.getSchema()) as Schema;
  });

  it("is the reviewed schema.json", () => {
    if (process.env.HAKUBE_UPDATE_SCHEMA === "1") {
      fs.writeFileSync(SCHEMA_FILE, JSON.stringify(schema, null, 2) + "\n");
      return;
    }
    const reviewed: unknown = JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8"));
    const diff = differences(reviewed, schema);
    assert.ok(
      diff.length === 0,
      `the schema other languages get (pulumi package add) is no longer schema.json; it differs at:\n` +
        diff
          .slice(0, 20)
          .map((d) => `  - ${d}`)
          .join("\n") +
        (diff.length > 20 ? `\n  ... and ${diff.length - 20} more` : "") +
        `\nIf the change is intended, run \`npm run schema:update\`, review \`git diff schema.json\` and commit it.`,
    );
  });

  it("describes every input and output, and every component", () => {
    const missing = propertyDescriptions(schema)
      .filter(([, d]) => !d || d.includes("[object Object]"))
      .map(([p]) => p);
    assert.deepEqual(missing, [], "a doc comment with a sentence before any @ tag (the analyzer drops tags)");
    for (const [name, r] of Object.entries(schema.resources)) {
      assert.ok(r.description && !r.description.includes("[object Object]"), `${name}'s description`);
    }
  });

  it("has every keyword argument and output the README's Python program uses", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const code = /```python\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const made = pythonConstructions(code);
    assert.ok(made.length >= 3, "the README's Python program makes hakube's components");
    for (const { variable, resource, kwargs } of made) {
      const r = schema.resources[`hakube:index:${resource}`];
      assert.ok(r, `hakube.${resource} is a component of the schema`);
      const inputs = Object.keys(r.inputProperties).map(snake);
      for (const k of kwargs)
        assert.ok(inputs.includes(k), `hakube.${resource}(${k}=...): not one of ${inputs.join(", ")}`);
      for (const req of (r as { requiredInputs?: string[] }).requiredInputs ?? [])
        assert.ok(kwargs.includes(snake(req)), `hakube.${resource} without its required ${snake(req)}`);
      const outputs = Object.keys(r.properties).map(snake);
      for (const m of code.matchAll(new RegExp(`\\b${variable}\\.(\\w+)`, "g")))
        assert.ok(
          outputs.includes(m[1]),
          `${variable}.${m[1]}: not an output of ${resource} (${outputs.join(", ")})`,
        );
    }
  });

  it("accepts every component", () => {
    assert.deepEqual(Object.keys(schema.resources).sort(), [
      "hakube:index:CertificateAuthority",
      "hakube:index:EtcdCluster",
      "hakube:index:HaControlPlane",
      "hakube:index:KeepalivedVip",
      "hakube:index:LoadBalancer",
    ]);
  });

  it("turns the const-object enums into string enums with their names and values", () => {
    assert.deepEqual(
      schema.types["hakube:index:LoadBalancerKind"].enum?.map((e) => [e.name, e.value]),
      [
        ["Haproxy", "haproxy"],
        ["AwsNlb", "awsNlb"],
      ],
    );
    assert.deepEqual(
      schema.types["hakube:index:InstallMethod"].enum?.map((e) => e.value),
      ["package", "release", "preinstalled"],
      "one install method for every daemon",
    );
    for (const name of ["KeyAlgorithm", "VipHealthCheckKind", "EtcdTopology", "CniKind"]) {
      assert.equal(schema.types[`hakube:index:${name}`]?.type, "string", name);
    }
  });

  it("takes Inputs where outputs of other resources flow in", () => {
    const endpoint = schema.resources["hakube:index:HaControlPlane"].inputProperties.endpoint;
    assert.equal(endpoint.plain, undefined, "HaControlPlane.endpoint is an Input");
    const host = schema.types["hakube:index:HostArgs"].properties!;
    assert.equal(host.address.plain, undefined, "HostArgs.address is an Input");
    const haproxy = schema.types["hakube:index:HaproxyArgs"].properties!;
    assert.equal(haproxy.bindAddress.plain, undefined, "HaproxyArgs.bindAddress is an Input");
  });
});
