/**
 * How a daemon gets onto a host, for every component: one install-method type, the args of a daemon that
 * comes from the OS packages (keepalived, HAProxy), and one check of the install args that every
 * component's validator calls with its own rules. Pure: no Pulumi import.
 */
import { isAbsolutePath, isHttpUrl, oneOfProblem, Problem, show } from "./validation";

/** How a daemon gets onto a host (the constant, or its string value: `"package"`). */
export const InstallMethod = {
  /** The OS package manager: apt-get (Debian, Ubuntu), dnf or yum (RHEL family). */
  Package: "package",
  /** A release downloaded from the project's release server (or a mirror) and checked against its sha256. */
  Release: "release",
  /** Already on the host (golden images): only the version is checked. */
  Preinstalled: "preinstalled",
} as const;
export type InstallMethod = (typeof InstallMethod)[keyof typeof InstallMethod];

/** Where Debian's and RHEL's packages put haproxy and keepalived. */
export const DEFAULT_PACKAGE_SBIN_DIR = "/usr/sbin";

/**
 * How a daemon from the OS packages gets onto a host (HAProxy, keepalived): `InstallMethod.Package` or
 * `InstallMethod.Preinstalled`.
 */
export interface PackageInstallArgs {
  /** Package or Preinstalled. @default InstallMethod.Package */
  method?: InstallMethod;
  /** The directory that holds the daemon's binary. @default "/usr/sbin" (Debian and RHEL packages) */
  binDir?: string;
}

/** The rules of a daemon from the OS packages ({@link PackageInstallArgs}): package or preinstalled. */
export const PACKAGE_INSTALL_RULES: InstallRules = {
  methods: [InstallMethod.Package, InstallMethod.Preinstalled],
  default: InstallMethod.Package,
  binDir: true,
};

/**
 * Checks the value of a field that belongs to the method in effect (called whether it is set or not, so
 * a required field can say it is missing), at `path` ("install.sha256").
 */
export type InstallFieldCheck = (value: unknown, path: string) => Problem[];

/** What one daemon accepts: its methods, its default, and the fields that belong to one method only. */
export interface InstallRules {
  /** The methods the daemon supports, in the order messages list them. */
  methods: readonly InstallMethod[];
  default: InstallMethod;
  /** Fields of one method only, in the order they are checked, each with the check of its value. */
  fields?: ReadonlyArray<readonly [field: string, method: InstallMethod, check: InstallFieldCheck]>;
  /** Check `binDir` (an absolute path) too. */
  binDir?: boolean;
}

/** The install args' method, and what is wrong with them by the daemon's rules. */
export interface InstallCheck {
  /** The method in effect; undefined when the given one is not among the daemon's (a problem then). */
  method?: InstallMethod;
  problems: Problem[];
}

/**
 * Check install args at `path` ("install", "haproxy.install") by a daemon's rules: the method is one the
 * daemon supports (else nothing more but `binDir` is checked), each field of another method is unset,
 * each field of this method passes its check, and `binDir` (with `rules.binDir`) is an absolute path.
 */
export function checkInstall(install: object | undefined, path: string, rules: InstallRules): InstallCheck {
  const given = (install ?? {}) as Record<string, unknown>;
  const binDir = rules.binDir ? absolutePathProblems(given.binDir, `${path}.binDir`) : [];
  const method = given.method ?? rules.default;
  const bad = oneOfProblem(method, rules.methods, `${path}.method`);
  if (bad) return { problems: [bad, ...binDir] };
  const m = method as InstallMethod;
  const problems: Problem[] = [];
  for (const [field, wanted, check] of rules.fields ?? []) {
    if (m === wanted) {
      problems.push(...check(given[field], `${path}.${field}`));
    } else if (given[field] !== undefined) {
      problems.push({
        path: `${path}.${field}`,
        message: `${path}.${field} only applies to install.method "${wanted}", got it with ${show(m)}`,
      });
    }
  }
  return { method: m, problems: [...problems, ...binDir] };
}

/** An http(s) URL field, when set ({@link InstallFieldCheck}). */
export function httpUrlProblems(value: unknown, path: string): Problem[] {
  if (value === undefined || isHttpUrl(value)) return [];
  return [
    {
      path,
      message: `${path} must be an http(s) URL without spaces, quotes or backslashes, got ${show(value)}`,
    },
  ];
}

/** A directory or file on the hosts: absolute, of letters, digits, '.', '_', '-' and '/', not "/" nor "..". */
export function absolutePathProblems(value: unknown, path: string): Problem[] {
  if (value === undefined || isAbsolutePath(value)) return [];
  return [
    {
      path,
      message: `${path} must be an absolute path of letters, digits, '.', '_', '-' and '/', got ${show(value)}`,
    },
  ];
}
