/**
 * What installing and loading hakube costs a program, side by side: a bare-metal program (no @pulumi/aws,
 * an optional peer since the lighter install), one that also installs @pulumi/aws (AWS users), and, with
 * HAKUBE_BENCH_BASELINE=<git rev>, the package as it was at that revision. No network: the install size is
 * the dependency closure as installed in this repository (lab/pack.ts), the load time `require("hakube")`
 * in a fresh Node.js process per try, in a project holding the packed package. Needs no root.
 *
 *   HAKUBE_BENCH_BASELINE=<rev> npm run bench -- install [--tries 10]
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../hosts/paths";
import { dependencyClosure, installedDependencies, packTree, projectWithPackage, runOrThrow } from "../pack";
import { Row } from "./stats";

/** Prints the time `require("hakube")` takes and how many modules of @pulumi/aws it loaded. */
const LOAD = `
const t = process.hrtime.bigint();
require("hakube");
const ms = Number(process.hrtime.bigint() - t) / 1e6;
const aws = Object.keys(require.cache).filter((k) => k.includes("/@pulumi/aws/")).length;
console.log(JSON.stringify({ ms, aws, modules: Object.keys(require.cache).length }));
`;

interface Profile {
  name: string;
  tarball: string;
  withAws: boolean;
}

/** The baseline revision's tree in a temporary worktree, packed; the worktree is removed. */
function packRevision(rev: string, dest: string): string {
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), "hakube-baseline-"));
  runOrThrow("git", ["worktree", "add", "--detach", tree, rev], repoRoot);
  try {
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(tree, "node_modules"));
    return packTree(tree, dest);
  } finally {
    runOrThrow("git", ["worktree", "remove", "--force", tree], repoRoot);
  }
}

/** The names an install of the tarball pulls (its package.json), plus @pulumi/aws if the user adds it. */
function topLevel(tarball: string, withAws: boolean): string[] {
  const manifest = JSON.parse(runOrThrow("tar", ["xzOf", tarball, "package/package.json"], repoRoot));
  const deps = installedDependencies(manifest);
  return withAws && !deps.includes("@pulumi/aws") ? [...deps, "@pulumi/aws"] : deps;
}

export async function benchInstall(tries: number, log: (l: string) => void): Promise<Row[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "hakube-bench-install-"));
  try {
    const current = packTree(repoRoot, work);
    const profiles: Profile[] = [];
    const baseline = process.env.HAKUBE_BENCH_BASELINE;
    if (baseline) {
      const dir = fs.mkdtempSync(path.join(work, "baseline-"));
      profiles.push({ name: `baseline ${baseline}`, tarball: packRevision(baseline, dir), withAws: true });
    }
    profiles.push({ name: "bare metal (no @pulumi/aws)", tarball: current, withAws: false });
    profiles.push({ name: "with @pulumi/aws", tarball: current, withAws: true });

    const rows: Row[] = [];
    for (const p of profiles) {
      const closure = dependencyClosure(topLevel(p.tarball, p.withAws));
      if (closure.missing.length > 0)
        throw new Error(
          `${p.name}: not installed in this repository: ${closure.missing.join(", ")} (npm ci)`,
        );
      const project = fs.mkdtempSync(path.join(work, "project-"));
      projectWithPackage(p.tarball, project, p.withAws);
      fs.writeFileSync(path.join(project, "load.js"), LOAD);
      const loads: Array<{ ms: number; aws: number; modules: number; wallMs: number }> = [];
      for (let i = 0; i < tries; i++) {
        const t0 = performance.now();
        const r = spawnSync(process.execPath, ["load.js"], {
          cwd: project,
          encoding: "utf8",
          timeout: 120000,
        });
        const wallMs = performance.now() - t0;
        if (r.status !== 0) throw new Error(`${p.name}: require("hakube") failed: ${r.stderr.slice(-1500)}`);
        loads.push({ ...JSON.parse(r.stdout.trim().split("\n").pop()!), wallMs });
      }
      const mb = closure.bytes / 1e6;
      log(
        `  ${p.name}: ${closure.packages} packages, ${mb.toFixed(1)} MB (@pulumi/aws itself ` +
          `${((closure.byName.get("@pulumi/aws") ?? 0) / 1e6).toFixed(1)} MB); loads ${JSON.stringify(loads)}`,
      );
      const of = (k: "ms" | "aws" | "modules" | "wallMs") => loads.map((l) => l[k]);
      rows.push({ metric: "install size, files", profile: p.name, samples: [mb], unit: "MB" });
      rows.push({
        metric: "install size, on disk (du)",
        profile: p.name,
        samples: [closure.disk / 1e6],
        unit: "MB",
      });
      rows.push({
        metric: "packages installed",
        profile: p.name,
        samples: [closure.packages],
        unit: "count",
      });
      rows.push({ metric: 'require("hakube")', profile: p.name, samples: of("ms"), unit: "ms" });
      rows.push({
        metric: "node process, start to exit",
        profile: p.name,
        samples: of("wallMs"),
        unit: "ms",
      });
      rows.push({ metric: "modules loaded", profile: p.name, samples: of("modules"), unit: "count" });
      rows.push({ metric: "of them @pulumi/aws", profile: p.name, samples: of("aws"), unit: "count" });
    }
    return rows;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
