/** The packed package in fresh projects, for the tests (lab/pack.ts): built and packed once per process. */
import * as fs from "node:fs";
import * as path from "node:path";
import { packTree, projectWithPackage as unpackInto } from "../../../lab/pack";
import { tempDir } from "./sh";

export const ROOT = path.resolve(__dirname, "../../..");

let tarball: string | undefined;

/** The packed tarball of this tree, made on first use, removed when the process exits. */
export function packedTarball(): string {
  if (tarball) return tarball;
  const dir = tempDir("pack");
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  tarball = packTree(ROOT, dir);
  return tarball;
}

/**
 * A fresh project (a temp dir; the caller removes it) with the packed hakube, this repository's @types and
 * @pulumi packages, @pulumi/aws only if `withAws`. Returns its directory.
 */
export function projectWithPackage(prefix: string, withAws: boolean): string {
  const project = tempDir(prefix);
  unpackInto(packedTarball(), project, withAws);
  return project;
}
