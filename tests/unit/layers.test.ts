/**
 * The layers of ARCHITECTURE.md are ESLint rules (eslint.config.mjs, no-restricted-imports per folder):
 * each rule is shown to fail on a deliberate violation, linted as the file it would be, and to let the
 * imports the layer allows through. `npx eslint .` shows that the repository keeps them.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { ESLint } from "eslint";

const ROOT = path.resolve(__dirname, "../..");
const RULE = "@typescript-eslint/no-restricted-imports";

describe("the layers (ESLint import rules)", function () {
  this.timeout(60000);
  let eslint: ESLint;
  before(() => {
    eslint = new ESLint({
      cwd: ROOT,
      // The import rule needs no type information; without it the files need not exist.
      overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
      ruleFilter: ({ ruleId }) => ruleId === RULE,
    });
  });

  /** The messages of the import rule for `code` linted as the file `file` (relative to the repository). */
  async function problems(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
    assert.deepEqual(
      result.messages.filter((m) => m.ruleId !== RULE),
      [],
      "only the import rule runs",
    );
    return result.messages.map((m) => m.message);
  }

  async function refuses(file: string, code: string, reason: RegExp): Promise<void> {
    const found = await problems(file, code);
    assert.equal(found.length, 1, `${file}: ${code} should be refused, got ${JSON.stringify(found)}`);
    assert.match(found[0], reason);
  }

  async function allows(file: string, code: string): Promise<void> {
    assert.deepEqual(await problems(file, code), [], `${file}: ${code}`);
  }

  it("render/ imports no @pulumi package, not even its types", async () => {
    await refuses(
      "components/keepalived/render/violation.ts",
      'import * as pulumi from "@pulumi/pulumi";\nexport const x = pulumi;\n',
      /render\/ is pure/,
    );
    await refuses(
      "components/etcd/render/violation.ts",
      'import type { Input } from "@pulumi/pulumi";\nexport type X = Input<string>;\n',
      /render\/ is pure/,
    );
    await allows(
      "components/etcd/render/violation.ts",
      'import { shQuote } from "../../shell";\nimport { CONFIG_DIR } from "../defaults";\nexport const x = shQuote(CONFIG_DIR);\n',
    );
  });

  it("types, defaults, validators and settings take Pulumi's types only", async () => {
    await refuses(
      "components/loadbalancer/types.ts",
      'import * as pulumi from "@pulumi/pulumi";\nexport type X = pulumi.Input<string>;\n',
      /import Pulumi's types only/,
    );
    await refuses(
      "components/etcd/types.ts",
      'import { CaKeyPairArgs } from "../pki/certificateAuthority";\nexport type X = CaKeyPairArgs;\n',
      /for their types only/,
    );
    await allows(
      "components/loadbalancer/types.ts",
      'import type * as pulumi from "@pulumi/pulumi";\nexport type X = pulumi.Input<string>;\n',
    );
  });

  it("settings never import render/", async () => {
    await refuses(
      "components/etcd/settings.ts",
      'import { renderInstallScript } from "./render/scripts";\nexport const x = renderInstallScript;\n',
      /settings never import render/,
    );
  });

  it("a component never imports another component's internals; the shared modules never import a component", async () => {
    await refuses(
      "components/keepalived/settings.ts",
      'import { DEFAULT_HAPROXY_HEALTH_PORT } from "../loadbalancer/defaults";\nexport const x = DEFAULT_HAPROXY_HEALTH_PORT;\n',
      /another component's internals/,
    );
    await refuses(
      "components/controlplane/render/violation.ts",
      'import { PKI_DIR } from "../../etcd/defaults";\nexport const x = PKI_DIR;\n',
      /another component's internals/,
    );
    await refuses(
      "components/install.ts",
      'import { DEFAULT_PORT } from "./loadbalancer/defaults";\nexport const x = DEFAULT_PORT;\n',
      /never import a component/,
    );
    await allows(
      "components/keepalived/settings.ts",
      'import { HAPROXY_HEALTH_PORT } from "../contracts";\nexport const x = HAPROXY_HEALTH_PORT;\n',
    );
    // The CA is the shared PKI layer of etcd and the control plane.
    await allows(
      "components/etcd/etcdCluster.ts",
      'import { CertificateAuthority } from "../pki/certificateAuthority";\nexport const x = CertificateAuthority;\n',
    );
  });

  it("components/ and stacks/ never import lab/; lab/ never imports tests/", async () => {
    await refuses(
      "components/etcd/etcdCluster.ts",
      'import { LAB_SUBNETS } from "../../lab/hosts/subnets";\nexport const x = LAB_SUBNETS;\n',
      /never import lab\//,
    );
    await refuses(
      "stacks/aws/program.ts",
      'import { LAB_SUBNETS } from "../../lab/hosts/subnets";\nexport const x = LAB_SUBNETS;\n',
      /never import lab\//,
    );
    await refuses(
      "lab/bench/violation.ts",
      'import { captureWarnings } from "../../tests/unit/helpers/mocks";\nexport const x = captureWarnings;\n',
      /lab\/ never imports tests\//,
    );
    await allows(
      "lab/bench/violation.ts",
      'import { Recorder } from "../stack/recorder";\nexport const x = Recorder;\n',
    );
  });
});
