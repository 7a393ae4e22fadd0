// ESLint flat config: typescript-eslint's recommended rules plus Pulumi's own rules,
// among them @pulumi/no-output-in-template-literal (an Output interpolated into rendered config),
// and the layers of ARCHITECTURE.md as import restrictions (tests/unit/layers.test.ts shows they bite).
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

/** The components that build hosts over SSH; each keeps its internals to itself. */
const COMPONENTS = ["controlplane", "etcd", "keepalived", "loadbalancer"];

/** An import of another component's folder from a file `depth` folders below components/. */
const otherComponents = (own) => ({
  regex: `^(\\.\\./)+(${COMPONENTS.filter((c) => c !== own).join("|")})(/|$)`,
  message:
    "a component never imports another component's internals: what two components share goes in components/contracts.ts (or a shared module beside it)",
});
const LAB = {
  regex: "(^|/)lab(/|$)",
  message: "components/ and stacks/ never import lab/: the shipped program must not depend on the lab",
};
const TESTS = {
  regex: "(^|/)tests(/|$)",
  message: "lab/ never imports tests/: move what both need into lab/",
};
const PULUMI = {
  regex: "^@pulumi/",
  message: "render/ is pure: no @pulumi import, not even of types; renderers take plain settings",
};
const PULUMI_VALUE = {
  regex: "^@pulumi/",
  allowTypeImports: true,
  message:
    "types, defaults, validators, settings and the shared pure modules import Pulumi's types only (import type)",
};
/** Modules that load Pulumi when imported for a value: pure files take only their types. */
const PULUMI_MODULES = {
  regex:
    "(^|/)(hosts|errors|outputs|steps|certificateAuthority|etcdCluster|keepalivedVip|loadBalancer|haControlPlane)$",
  allowTypeImports: true,
  message:
    "pure files import the Pulumi-loading modules (hosts, errors, outputs, steps, components) for their types only",
};
const RENDER = {
  regex: "^\\./render(/|$)",
  message: "settings never import render/: render/ reads settings; put shared types in types.ts",
};
const SHARED_TO_COMPONENT = {
  regex: `^\\./(${[...COMPONENTS, "pki"].join("|")})(/|$)`,
  message: "the shared modules in components/ never import a component: the component imports them",
};

/** One rule entry per file group: flat config replaces (does not merge) a rule's options, so each group lists all of its own. */
const restrict = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns }] },
});

/** The shared modules that use Pulumi; the others in components/ are pure. */
const SHARED_PULUMI = ["hosts", "errors", "outputs", "steps"].map((m) => `components/${m}.ts`);

const PURE = [
  "types.ts",
  "defaults.ts",
  "validate*.ts",
  "settings.ts",
  "versions.ts",
  "discovery.ts",
  "profiles.ts",
];

export default tseslint.config(
  { ignores: ["node_modules/", "bin/", ".lab/", "docs/api/"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  // The layers, from the most restricted file group to the least; the groups do not overlap.
  ...[...COMPONENTS, "pki"].flatMap((c) => [
    restrict([`components/${c}/render/**/*.ts`], [PULUMI, PULUMI_MODULES, otherComponents(c), LAB]),
    restrict(
      [`components/${c}/settings.ts`],
      [PULUMI_VALUE, PULUMI_MODULES, RENDER, otherComponents(c), LAB],
    ),
    restrict(
      PURE.filter((f) => f !== "settings.ts").map((f) => `components/${c}/${f}`),
      [PULUMI_VALUE, PULUMI_MODULES, otherComponents(c), LAB],
    ),
    restrict(
      [`components/${c}/**/*.ts`],
      [otherComponents(c), LAB],
      [`components/${c}/render/**`, ...PURE.map((f) => `components/${c}/${f}`)],
    ),
  ]),
  restrict(["components/*.ts"], [PULUMI_VALUE, SHARED_TO_COMPONENT, LAB], SHARED_PULUMI),
  restrict(SHARED_PULUMI, [SHARED_TO_COMPONENT, LAB]),
  restrict(["index.ts", "stacks/**/*.ts", "policy/**/*.ts"], [LAB]),
  restrict(["lab/**/*.ts"], [TESTS]),
);
