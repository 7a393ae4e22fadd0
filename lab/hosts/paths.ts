import * as path from "path";

/**
 * Where the lab keeps its files. Everything lives under `<repo>/.lab/` (git-ignored): one folder per lab,
 * plus `cache/` for the Debian root file system that every lab reuses.
 */

/** The repository root: this file sits in `<repo>/lab/hosts/`. */
export const repoRoot = path.resolve(__dirname, "..", "..");

/** `<repo>/.lab`, or `$HAKUBE_LAB_ROOT` when set (lets CI keep labs on a bigger disk). */
export function labRoot(): string {
  return process.env.HAKUBE_LAB_ROOT
    ? path.resolve(process.env.HAKUBE_LAB_ROOT)
    : path.join(repoRoot, ".lab");
}

/** The cache shared by all labs (rootfs, release tarballs). Never removed by destroyLab. */
export function cacheDir(): string {
  return path.join(labRoot(), "cache");
}

/** The folder of one lab: state file, key pair, host overlays, release files, logs. */
export function labDir(name: string): string {
  return path.join(labRoot(), name);
}

/** A lab name: a short DNS label, because machine, bridge and veth names derive from it. */
const LAB_NAME = /^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/;

export function assertLabName(name: string): void {
  if (!LAB_NAME.test(name) || name === "cache") {
    throw new Error(
      `invalid lab name ${JSON.stringify(name)}: use 1-20 lower-case letters, digits and '-', ` +
        `starting with a letter and not ending with '-' ("cache" is reserved)`,
    );
  }
}

/**
 * overlayfs takes its directories in a comma- and colon-separated option string, and the mount and
 * nspawn command lines do not quote: refuse paths that would be cut apart instead of failing obscurely.
 */
export function assertPlainPath(p: string): void {
  if (/[,:\s\\]/.test(p)) {
    throw new Error(
      `lab path ${JSON.stringify(p)} contains a comma, colon, backslash or space; move the repo`,
    );
  }
}
