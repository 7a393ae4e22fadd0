/**
 * The package as users install it, without the network: build and `npm pack` a tree, unpack the tarball
 * into a fresh project beside this repository's installed packages (linked, so the files Node loads are
 * the ones `npm install hakube` would give, at the lockfile's versions), and the size of what an install
 * pulls, summed over the dependency closure found in this repository's node_modules. Used by the package
 * tests and `npm run bench -- install`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "./hosts/paths";

export function runOrThrow(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 300000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} in ${cwd}: ${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `npm run build` and `npm pack` of the tree at `dir` into `dest`; the tarball's path. */
export function packTree(dir: string, dest: string): string {
  runOrThrow("npm", ["run", "build"], dir);
  const packed = JSON.parse(runOrThrow("npm", ["pack", "--json", "--pack-destination", dest], dir)) as Array<{
    filename: string;
  }>;
  return path.join(dest, packed[0].filename);
}

/**
 * Makes `project` a fresh project whose node_modules holds the unpacked `tarball` as hakube, this
 * repository's @types and every @pulumi package, @pulumi/aws only if `withAws`.
 */
export function projectWithPackage(tarball: string, project: string, withAws: boolean): void {
  const modules = path.join(project, "node_modules");
  fs.mkdirSync(path.join(modules, "@pulumi"), { recursive: true });
  runOrThrow("tar", ["xzf", tarball, "-C", modules], repoRoot);
  fs.renameSync(path.join(modules, "package"), path.join(modules, "hakube"));
  fs.symlinkSync(path.join(repoRoot, "node_modules", "@types"), path.join(modules, "@types"));
  for (const name of fs.readdirSync(path.join(repoRoot, "node_modules", "@pulumi"))) {
    if (name === "aws" && !withAws) continue;
    fs.symlinkSync(path.join(repoRoot, "node_modules", "@pulumi", name), path.join(modules, "@pulumi", name));
  }
}

interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** What npm installs for a package: its dependencies, optional ones, and peers that are not optional. */
export function installedDependencies(m: Manifest): string[] {
  const optionalPeer = (n: string) => m.peerDependenciesMeta?.[n]?.optional === true;
  return [
    ...Object.keys(m.dependencies ?? {}),
    ...Object.keys(m.optionalDependencies ?? {}),
    ...Object.keys(m.peerDependencies ?? {}).filter((n) => !optionalPeer(n)),
  ];
}

/** Bytes of the files below `dir` and the disk blocks they take (as `du`), not counting its node_modules. */
function ownSize(dir: string): Size {
  const total: Size = { bytes: 0, disk: 0 };
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules") continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const sub = ownSize(p);
      total.bytes += sub.bytes;
      total.disk += sub.disk;
    } else if (e.isFile()) {
      const st = fs.statSync(p);
      total.bytes += st.size;
      total.disk += st.blocks * 512;
    }
  }
  return total;
}

/** Where Node finds package `name` for a package at `from`, below `top` (this repository's node_modules). */
function resolvePackage(name: string, from: string, top: string): string | undefined {
  for (let dir = from; dir.startsWith(top); dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
    if (dir === top) break;
  }
  return undefined;
}

interface Size {
  /** The files' lengths. */
  bytes: number;
  /** The disk blocks they take, as `du` counts (many small files: well above `bytes`). */
  disk: number;
}

export interface Closure extends Size {
  packages: number;
  /** Bytes per package name (`@pulumi/aws`, ...), for the log. */
  byName: Map<string, number>;
  missing: string[];
}

/**
 * The packages an install of a package with `deps` pulls, as they are installed in this repository (the
 * same versions as its lockfile), with their sizes on disk.
 */
export function dependencyClosure(deps: string[]): Closure {
  const seen = new Map<string, Size>();
  const byName = new Map<string, number>();
  const missing: string[] = [];
  const visit = (name: string, from: string) => {
    const dir = resolvePackage(name, from, repoRoot);
    if (!dir) return void missing.push(name);
    if (seen.has(dir)) return;
    const size = ownSize(dir);
    seen.set(dir, size);
    byName.set(name, (byName.get(name) ?? 0) + size.bytes);
    const m = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as Manifest;
    for (const d of installedDependencies(m)) visit(d, dir);
  };
  for (const d of deps) visit(d, repoRoot);
  return {
    packages: seen.size,
    bytes: [...seen.values()].reduce((a, b) => a + b.bytes, 0),
    disk: [...seen.values()].reduce((a, b) => a + b.disk, 0),
    byName,
    missing: [...new Set(missing)],
  };
}
