/**
 * The README is the proof that the components compose: every ```ts block in it is compiled against the
 * package as users install it (`npm run build`, `npm pack`, unpacked into a fresh project's node_modules
 * beside this repository's @pulumi packages), so an example that stops compiling fails here. Conventions
 * (README "Install"): a block without imports of its own gets `import * as hakube from "hakube"` and
 * `import * as pulumi from "@pulumi/pulumi"`; an HTML comment `<!-- ts-preamble ... -->` right above a
 * block declares the names it takes from the reader's program.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectWithPackage, ROOT } from "./helpers/pack";

/** One ```ts block: its code, the preamble above it and the README line it starts on. */
export interface ReadmeBlock {
  line: number;
  preamble: string;
  code: string;
}

/** Every ```ts block of a Markdown text, with the `<!-- ts-preamble ... -->` comment just above it. */
export function tsBlocks(markdown: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const re = /(?:<!-- ts-preamble\n([\s\S]*?)-->\n\n)?```ts\n([\s\S]*?)```/g;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    const line = markdown.slice(0, m.index + m[0].indexOf("```ts")).split("\n").length + 1;
    blocks.push({ line, preamble: m[1] ?? "", code: m[2] });
  }
  return blocks;
}

/** The module a block is compiled as. */
export function blockModule(b: ReadmeBlock): string {
  const imports = [
    /from "@pulumi\/pulumi"/.test(b.code) ? "" : 'import * as pulumi from "@pulumi/pulumi";\n',
    /from "hakube"/.test(b.code) ? "" : 'import * as hakube from "hakube";\n',
  ].join("");
  const own = b.code.match(/^import .*\n/gm)?.join("") ?? "";
  const body = b.code.replace(/^import .*\n/gm, "");
  return `${own}${imports}${b.preamble}\n${body}\nexport {};\n`;
}

describe("README: every TypeScript example compiles against the packed package", function () {
  this.timeout(600000);
  let project: string;
  let pkg: string;
  before(() => {
    project = projectWithPackage("readme", true);
    pkg = path.join(project, "node_modules", "hakube");
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  it("compiles every ts block of README.md", () => {
    const blocks = tsBlocks(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
    assert.ok(blocks.length >= 6, `only ${blocks.length} blocks`);
    const files = blocks.map((b) => {
      const file = `readme-line-${b.line}.ts`;
      fs.writeFileSync(path.join(project, file), blockModule(b));
      return file;
    });
    fs.writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "commonjs",
          moduleResolution: "node",
          lib: ["ES2022"],
          types: ["node"],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          esModuleInterop: true,
        },
        files,
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", project],
      {
        cwd: project,
        encoding: "utf8",
        timeout: 300000,
      },
    );
    assert.equal(
      tsc.status,
      0,
      `README examples do not compile (file names give the README line):\n${tsc.stdout}${tsc.stderr}`,
    );
  });

  it("ships the sources its maps point at, and the declarations", () => {
    const maps: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".map")) maps.push(p);
      }
    };
    walk(path.join(pkg, "bin"));
    assert.ok(maps.length > 50, `${maps.length} maps`);
    for (const map of maps) {
      const { sources } = JSON.parse(fs.readFileSync(map, "utf8")) as { sources: string[] };
      for (const source of sources) {
        const file = path.resolve(path.dirname(map), source);
        assert.ok(
          file.startsWith(pkg) && fs.existsSync(file),
          `${path.relative(pkg, map)} points at ${source}`,
        );
      }
    }
    assert.ok(fs.existsSync(path.join(pkg, "bin/index.d.ts")));
    assert.ok(!fs.existsSync(path.join(pkg, "tests")) && !fs.existsSync(path.join(pkg, "lab")));
  });

  it("takes every @pulumi package as a range (one SDK copy with the user's)", () => {
    const { dependencies, peerDependencies } = JSON.parse(
      fs.readFileSync(path.join(pkg, "package.json"), "utf8"),
    ) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
    for (const [name, range] of Object.entries({ ...dependencies, ...peerDependencies })) {
      if (name.startsWith("@pulumi/")) assert.match(range, /^\^\d+\.\d+\.\d+$/, `${name} ${range}`);
    }
  });
});
