/**
 * Pure validation of EtcdClusterArgs: every rule returns problems that name the argument and the value.
 * Runs synchronously in the EtcdCluster constructor, before any resource exists.
 */
import { describeQuorum, faultTolerance } from "../quorum";
import {
  hostListProblems,
  notAnObject,
  isPort,
  isSha256,
  oneOfProblem,
  Problem,
  show,
  ValidationResult,
} from "../validation";
import {
  DEFAULT_CLIENT_PORT,
  DEFAULT_METRICS_PORT,
  DEFAULT_PEER_PORT,
  MAX_ELECTION_TIMEOUT_MS,
  MAX_RECOMMENDED_MEMBERS,
  MIN_ELECTION_TO_HEARTBEAT_RATIO,
  MIN_VERSION,
  DEFAULT_VERSION,
} from "./defaults";
import { CpuArchitecture, EtcdClusterArgs, EtcdTimingProfile } from "./types";
import { resolveEtcdTimings } from "./settings";
import { absolutePathProblems, checkInstall, httpUrlProblems, InstallMethod, InstallRules } from "../install";
import { ETCD_RELEASE_SHA256, officialEtcdSha256 } from "./checksums";
import { backupProblems, restoreProblems } from "./backup";
import { recoverQuorumProblems, recoverQuorumWarning } from "./recovery";
import { defragProblems } from "./defrag";
import {
  caKeyPairProblems,
  DEFAULT_CERT_VALIDITY_HOURS,
  defaultEarlyRenewalHours,
  lifetimeProblems,
} from "../pki/profiles";

/** Flags hakube sets itself; extraFlags may not override them. */
export const MANAGED_FLAGS = [
  "name",
  "data-dir",
  "wal-dir",
  "listen-peer-urls",
  "listen-client-urls",
  "listen-metrics-urls",
  "advertise-client-urls",
  "initial-advertise-peer-urls",
  "initial-cluster",
  "initial-cluster-state",
  "initial-cluster-token",
  "heartbeat-interval",
  "election-timeout",
  "cert-file",
  "key-file",
  "trusted-ca-file",
  "client-cert-auth",
  "peer-cert-file",
  "peer-key-file",
  "peer-trusted-ca-file",
  "peer-client-cert-auth",
  "auto-tls",
  "peer-auto-tls",
  "strict-reconfig-check",
  "config-file",
];

/** Parse "3.5.21" or "v3.5.21"; undefined if it is not a plain release version. */
export function parseVersion(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function validateEtcdClusterArgs(args: EtcdClusterArgs | undefined): ValidationResult {
  const refused = notAnObject(args, "members");
  if (refused) return refused;
  args = args as EtcdClusterArgs;
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  errors.push(...hostListProblems(args.members, "members"));
  errors.push(...caKeyPairProblems(args.ca, "ca"));
  errors.push(...certificateProblems(args.certificates));
  const n = Array.isArray(args.members) ? args.members.length : 0;
  if (n > 0 && n % 2 === 0) {
    warnings.push({
      path: "members",
      message: `members has an even count (${n}): ${describeQuorum(n)}, no more than ${n - 1} would; use an odd number (1, 3, 5, 7)`,
    });
  }
  if (n > 0 && n < 3) {
    warnings.push({
      path: "members",
      message: `members has ${n}: ${describeQuorum(n)}; use 3 or more for high availability`,
    });
  }
  if (n > MAX_RECOMMENDED_MEMBERS) {
    warnings.push({
      path: "members",
      message: `members has ${n}: ${describeQuorum(n)}, but every write waits for ${n - faultTolerance(n)} members; etcd advises at most ${MAX_RECOMMENDED_MEMBERS}`,
    });
  }
  errors.push(...portProblems(args));
  errors.push(...timingProblems(args));
  errors.push(...installProblems(args));
  errors.push(...pathProblems(args));
  errors.push(...extraFlagProblems(args.extraFlags));
  errors.push(...backupProblems(args.backup));
  errors.push(...defragProblems(args.defrag));
  errors.push(...restoreProblems(args.restoreFrom));
  const recovery = recoverQuorumProblems(
    args.recoverQuorum,
    Array.isArray(args.members) ? args.members : [],
    args.restoreFrom !== undefined,
  );
  errors.push(...recovery);
  if (args.recoverQuorum !== undefined && recovery.length === 0)
    warnings.push(recoverQuorumWarning(args.recoverQuorum));
  if (
    args.healthTimeoutSeconds !== undefined &&
    !(Number.isInteger(args.healthTimeoutSeconds) && args.healthTimeoutSeconds >= 10)
  ) {
    errors.push({
      path: "healthTimeoutSeconds",
      message: `healthTimeoutSeconds must be a whole number of seconds, at least 10, got ${show(args.healthTimeoutSeconds)}`,
    });
  }
  return { errors, warnings };
}

function certificateProblems(certificates: unknown): Problem[] {
  if (certificates === undefined) return [];
  if (certificates === null || typeof certificates !== "object" || Array.isArray(certificates)) {
    return [
      {
        path: "certificates",
        message: `certificates must be an object with keyAlgorithm, validityHours and earlyRenewalHours, got ${show(certificates)}`,
      },
    ];
  }
  return lifetimeProblems(
    certificates,
    "certificates.",
    DEFAULT_CERT_VALIDITY_HOURS,
    defaultEarlyRenewalHours,
  );
}

function portProblems(args: EtcdClusterArgs): Problem[] {
  const problems: Problem[] = [];
  const ports: Array<[string, unknown]> = [
    ["clientPort", args.clientPort ?? DEFAULT_CLIENT_PORT],
    ["peerPort", args.peerPort ?? DEFAULT_PEER_PORT],
    ["metricsPort", args.metricsPort ?? DEFAULT_METRICS_PORT],
  ];
  for (const [name, value] of ports) {
    if (!isPort(value))
      problems.push({ path: name, message: `${name} must be a port number 1-65535, got ${show(value)}` });
  }
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      if (isPort(ports[i][1]) && ports[i][1] === ports[j][1]) {
        problems.push({
          path: ports[j][0],
          message: `${ports[j][0]} must differ from ${ports[i][0]}, both are ${ports[i][1]}`,
        });
      }
    }
  }
  return problems;
}

function timingProblems(args: EtcdClusterArgs): Problem[] {
  const problems: Problem[] = [];
  if (args.timingProfile !== undefined) {
    const bad = oneOfProblem(args.timingProfile, Object.values(EtcdTimingProfile), "timingProfile");
    if (bad) problems.push(bad);
  }
  const timings = resolveEtcdTimings(args);
  const hb = timings.heartbeatIntervalMs as number;
  const el = timings.electionTimeoutMs as number;
  const positive = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v > 0;
  if (!positive(hb)) {
    problems.push({
      path: "heartbeatIntervalMs",
      message: `heartbeatIntervalMs must be a positive whole number of milliseconds, got ${show(hb)}`,
    });
  }
  if (!positive(el)) {
    problems.push({
      path: "electionTimeoutMs",
      message: `electionTimeoutMs must be a positive whole number of milliseconds, got ${show(el)}`,
    });
  } else if (el > MAX_ELECTION_TIMEOUT_MS) {
    problems.push({
      path: "electionTimeoutMs",
      message: `electionTimeoutMs must be at most ${MAX_ELECTION_TIMEOUT_MS} (etcd's limit), got ${el}`,
    });
  }
  if (positive(hb) && positive(el) && el < MIN_ELECTION_TO_HEARTBEAT_RATIO * hb) {
    problems.push({
      path: "electionTimeoutMs",
      message: `electionTimeoutMs must be at least ${MIN_ELECTION_TO_HEARTBEAT_RATIO}x heartbeatIntervalMs (${MIN_ELECTION_TO_HEARTBEAT_RATIO * hb}), got ${el} with heartbeatIntervalMs ${hb}`,
    });
  }
  return problems;
}

/** What etcd's install accepts: release (the default), package, preinstalled; the release's own fields. */
const INSTALL_RULES: InstallRules = {
  methods: [InstallMethod.Release, InstallMethod.Package, InstallMethod.Preinstalled],
  default: InstallMethod.Release,
  fields: [
    [
      "sha256",
      InstallMethod.Release,
      (v, path) =>
        v === undefined || isSha256(v)
          ? []
          : [
              {
                path,
                message: `${path} must be the release tarball's sha256 (64 lower-case hex digits) so that nothing unverified is installed, got ${show(v)}`,
              },
            ],
    ],
    ["baseUrl", InstallMethod.Release, httpUrlProblems],
    [
      "arch",
      InstallMethod.Release,
      (v, path) => {
        const bad = v === undefined ? undefined : oneOfProblem(v, Object.values(CpuArchitecture), path);
        return bad ? [bad] : [];
      },
    ],
  ],
};

function installProblems(args: EtcdClusterArgs): Problem[] {
  const { method, problems } = checkInstall(args.install, "install", INSTALL_RULES);
  if (!method) return problems;
  return [...versionProblems(args.version, method), ...problems, ...checksumProblems(args, method)];
}

/** A release without install.sha256 must be one whose official sha256 hakube knows. */
function checksumProblems(args: EtcdClusterArgs, method: InstallMethod): Problem[] {
  const install = args.install ?? {};
  if (method !== InstallMethod.Release || install.sha256 !== undefined) return [];
  const version = typeof args.version === "string" ? args.version : DEFAULT_VERSION;
  const arch = install.arch ?? CpuArchitecture.Amd64;
  if (officialEtcdSha256(version, arch) !== undefined) return [];
  return [
    {
      path: "install.sha256",
      message: `install.sha256 is required for etcd ${version} on ${arch}: hakube knows the official sha256 of the releases ${knownReleaseRange()} only; give the release tarball's sha256 (64 lower-case hex digits) so that nothing unverified is installed, got undefined`,
    },
  ];
}

function versionProblems(version: unknown, method: InstallMethod): Problem[] {
  if (version === undefined) return [];
  const problems: Problem[] = [];
  const v = typeof version === "string" ? parseVersion(version) : undefined;
  const min = MIN_VERSION.join(".");
  if (!v) {
    problems.push({
      path: "version",
      message: `version must look like "3.5.21" (or "v3.5.21"), got ${show(version)}`,
    });
  } else if (v[0] < MIN_VERSION[0] || (v[0] === MIN_VERSION[0] && v[1] < MIN_VERSION[1])) {
    problems.push({
      path: "version",
      message: `version must be ${min} or later (hakube joins members as learners), got ${show(version)}`,
    });
  }
  if (method !== InstallMethod.Release) {
    problems.push({
      path: "version",
      message: `version only applies to install.method "release"; with ${show(method)} the installed etcd is used as it is (${min} or later is checked on the host)`,
    });
  }
  return problems;
}

function pathProblems(args: EtcdClusterArgs): Problem[] {
  return [
    ...absolutePathProblems(args.dataDir, "dataDir"),
    ...absolutePathProblems(args.install?.binDir, "install.binDir"),
  ];
}

function extraFlagProblems(flags: { [flag: string]: string } | undefined): Problem[] {
  const problems: Problem[] = [];
  for (const [flag, value] of Object.entries(flags ?? {})) {
    const path = `extraFlags[${JSON.stringify(flag)}]`;
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(flag)) {
      problems.push({
        path,
        message: `extraFlags keys must be etcd flag names without dashes in front, such as "auto-compaction-retention", got ${show(flag)}`,
      });
    } else if (MANAGED_FLAGS.includes(flag)) {
      problems.push({
        path,
        message: `extraFlags may not set ${show(flag)}: hakube manages it (see EtcdClusterArgs)`,
      });
    }
    if (typeof value !== "string" || /[\n\r"'\\]/.test(value)) {
      problems.push({
        path,
        message: `${path} must be a string without quotes, backslashes or line breaks, got ${show(value)}`,
      });
    }
  }
  return problems;
}

/** "3.5.6 to 3.6.14 (amd64, arm64)": what the official checksum table covers. */
function knownReleaseRange(): string {
  const versions = Object.keys(ETCD_RELEASE_SHA256.amd64 ?? {}).map((v) => parseVersion(v)!);
  const cmp = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  versions.sort(cmp);
  const str = (v: number[]) => v.join(".");
  return `${str(versions[0])} to ${str(versions[versions.length - 1])} (${Object.keys(ETCD_RELEASE_SHA256).join(", ")})`;
}
