/**
 * The Pulumi program of this repository (Pulumi.yaml's `main`): selects the environment's stack by the
 * config key `hakube:platform` (aws, bare-metal). Each stack is a thin program under
 * stacks/<platform>/ taking a plain typed object; the readers below build that object from `hakube:*`
 * config and report every missing or malformed key at once, by name, before anything is created.
 *
 * Pulumi.yaml declares every key with a default (an empty one for keys that only some platforms use), so
 * a key that is "empty" here is a key that was not set: "", [] and {} count as unset.
 */
import * as pulumi from "@pulumi/pulumi";
import * as hakube from "../index";
import { awsStack, AwsSubnetArgs, ClusterArgs, EtcdStackArgs } from "./aws/program";
import { AWS_DEFAULTS, AwsNatGateways } from "./aws/plan";
import { ApiEndpointKind, bareMetalStack, BareMetalHostArgs } from "./bare-metal/program";
import { show } from "../components/show";
import { isOpenSshPublicKey } from "../components/validation";

const NAMESPACE = "hakube";
const config = new pulumi.Config(NAMESPACE);

/** Reads `hakube:*` keys, collecting one problem per bad key; {@link check} throws them all at once. */
class ConfigReader {
  private readonly problems: string[] = [];

  constructor(
    private readonly config: pulumi.Config,
    private readonly platform: string,
  ) {}

  private key(k: string): string {
    return `${NAMESPACE}:${k}`;
  }

  problem(message: string): void {
    this.problems.push(message);
  }

  private missing(k: string, what: string): undefined {
    this.problem(`${this.key(k)} is required for platform ${this.platform}: ${what}`);
    return undefined;
  }

  /** The raw text of a key; undefined if unset or empty. */
  private raw(k: string): string | undefined {
    const v = this.config.get(k);
    return v === undefined || v === "" ? undefined : v;
  }

  /** A key holding JSON (lists, objects): parsed, or undefined if unset, empty or malformed (a problem). */
  private json(k: string, shape: string): unknown {
    const v = this.raw(k);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v);
    } catch {
      this.problem(`${this.key(k)} must be ${shape}, got ${show(v)}`);
      return undefined;
    }
  }

  string<T extends string = string>(
    k: string,
    opts: { required?: string; oneOf?: readonly T[] } = {},
  ): T | undefined {
    const v = this.raw(k);
    if (v === undefined) return opts.required ? this.missing(k, opts.required) : undefined;
    if (opts.oneOf && !opts.oneOf.includes(v as T)) {
      this.problem(`${this.key(k)} must be one of ${opts.oneOf.join(", ")}, got ${show(v)}`);
      return undefined;
    }
    return v as T;
  }

  /** A whole number; undefined if unset, or if it is `unset` (the "not set" value Pulumi.yaml declares). */
  integer(k: string, opts: { min?: number; max?: number; unset?: number } = {}): number | undefined {
    const v = this.raw(k);
    if (v === undefined || (opts.unset !== undefined && v === String(opts.unset))) return undefined;
    const n = Number(v);
    if (
      !/^-?[0-9]+$/.test(v) ||
      (opts.min !== undefined && n < opts.min) ||
      (opts.max !== undefined && n > opts.max)
    ) {
      const range = [
        opts.min !== undefined ? `at least ${opts.min}` : "",
        opts.max !== undefined ? `at most ${opts.max}` : "",
      ]
        .filter(Boolean)
        .join(" and ");
      this.problem(`${this.key(k)} must be a whole number${range ? ` ${range}` : ""}, got ${show(v)}`);
      return undefined;
    }
    return n;
  }

  boolean(k: string): boolean | undefined {
    const v = this.raw(k);
    if (v === undefined) return undefined;
    if (v !== "true" && v !== "false") {
      this.problem(`${this.key(k)} must be true or false, got ${show(v)}`);
      return undefined;
    }
    return v === "true";
  }

  strings(k: string, opts: { required?: string } = {}): string[] | undefined {
    const v = this.json(k, "a list of strings");
    if (v === undefined || (Array.isArray(v) && v.length === 0)) {
      return opts.required ? this.missing(k, opts.required) : undefined;
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      this.problem(`${this.key(k)} must be a list of strings, got ${show(v)}`);
      return undefined;
    }
    return v;
  }

  /** An object key; fields are checked by the caller. */
  object(k: string, opts: { required?: string } = {}): Record<string, unknown> | undefined {
    const v = this.json(k, "an object");
    if (v === undefined || (isRecord(v) && Object.keys(v).length === 0)) {
      return opts.required ? this.missing(k, opts.required) : undefined;
    }
    if (!isRecord(v)) {
      this.problem(`${this.key(k)} must be an object, got ${show(v)}`);
      return undefined;
    }
    return v;
  }

  /** A list of objects; each object's fields are checked with {@link fields}. */
  objects(k: string, shape: string, opts: { required?: string } = {}): Record<string, unknown>[] | undefined {
    const v = this.json(k, `a list of ${shape}`);
    if (v === undefined || (Array.isArray(v) && v.length === 0)) {
      return opts.required ? this.missing(k, opts.required) : undefined;
    }
    if (!Array.isArray(v) || !v.every(isRecord)) {
      this.problem(`${this.key(k)} must be a list of ${shape}, got ${show(v)}`);
      return undefined;
    }
    return v;
  }

  /** Checks an object's fields: required and optional strings and numbers; reports `<key>[i].field`. */
  fields(
    path: string,
    o: Record<string, unknown>,
    spec: Record<string, "string" | "string?" | "number?">,
  ): boolean {
    let ok = true;
    for (const [field, type] of Object.entries(spec)) {
      const v = o[field];
      const optional = type.endsWith("?");
      if (v === undefined && optional) continue;
      if (typeof v !== type.replace("?", "") || v === "") {
        this.problem(
          `${path}.${field} must be a ${optional ? "" : "non-empty "}${type.replace("?", "")}, got ${show(v)}`,
        );
        ok = false;
      }
    }
    const unknown = Object.keys(o).filter((f) => !(f in spec));
    if (unknown.length > 0) {
      this.problem(
        `${path} has unknown field(s) ${unknown.join(", ")}; known: ${Object.keys(spec).join(", ")}`,
      );
      ok = false;
    }
    return ok;
  }

  /** A secret key: undefined if unset. Its value stays a secret Output. */
  secret(k: string, opts: { required?: string } = {}): pulumi.Output<string> | undefined {
    if (this.raw(k) === undefined) return opts.required ? this.missing(k, opts.required) : undefined;
    return this.config.requireSecret(k);
  }

  /** Throws every problem found so far as one error. */
  check(): void {
    if (this.problems.length > 0) {
      throw new pulumi.RunError(
        `hakube config for platform ${this.platform} is invalid:\n${this.problems.map((p) => `  - ${p}`).join("\n")}`,
      );
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const HOST_FIELDS = {
  name: "string",
  address: "string",
  hostKey: "string",
  user: "string?",
  port: "number?",
} as const;

function readHosts(r: ConfigReader, k: string, required?: string): BareMetalHostArgs[] | undefined {
  const list = r.objects(k, "hosts {name, address, hostKey, user?, port?}", { required });
  if (!list) return undefined;
  const ok = list.map((h, i) => r.fields(`${NAMESPACE}:${k}[${i}]`, h, HOST_FIELDS)).every(Boolean);
  return ok ? (list as unknown as BareMetalHostArgs[]) : undefined;
}

const CNI_CHOICES = ["cilium", "calico", "none"] as const;

/** hakube:kubernetesVersion, kubernetesInstall, podSubnet, serviceSubnet, cni, cniVersion. */
function readCluster(r: ConfigReader): ClusterArgs {
  const kubernetesVersion = r.string("kubernetesVersion", {
    required: 'the Kubernetes release, e.g. "1.31.4"',
  });
  const method = r.string("kubernetesInstall", { oneOf: Object.values(hakube.InstallMethod) });
  const cni = r.string("cni", { oneOf: CNI_CHOICES }) ?? "cilium";
  const cniVersion =
    cni === "none"
      ? undefined
      : r.string("cniVersion", {
          required: `the ${cni} chart version to install, pinned ("1.16.5" for cilium, "v3.29.1" for calico), or set hakube:cni none`,
        });
  return {
    kubernetesVersion: kubernetesVersion ?? "",
    podSubnet: r.string("podSubnet"),
    serviceSubnet: r.string("serviceSubnet"),
    install: method ? { method } : undefined,
    cni:
      cni === "none"
        ? undefined
        : {
            kind: cni === "calico" ? hakube.CniKind.Calico : hakube.CniKind.Cilium,
            version: cniVersion ?? "",
          },
  };
}

/** hakube:etcdTopology, etcdVersion, etcdInstall, etcdSha256. */
function readEtcd(r: ConfigReader): EtcdStackArgs {
  const topology =
    r.string("etcdTopology", { oneOf: Object.values(hakube.EtcdTopology) }) ?? hakube.EtcdTopology.Stacked;
  if (topology === hakube.EtcdTopology.Stacked) return { topology };
  const method =
    r.string("etcdInstall", { oneOf: Object.values(hakube.InstallMethod) }) ?? hakube.InstallMethod.Release;
  const sha256 =
    method === hakube.InstallMethod.Release
      ? r.string("etcdSha256", {
          required:
            "the sha256 of the etcd release tarball (etcd-v<version>-linux-amd64.tar.gz), with hakube:etcdInstall release",
        })
      : undefined;
  return { topology, version: r.string("etcdVersion"), install: { method, sha256 } };
}

/** hakube:bastion {host, port?, user?, hostKey?, securityGroupId?} and hakube:bastionPrivateKey. */
function readBastion(r: ConfigReader, defaultKey?: pulumi.Input<string>) {
  const b = r.object("bastion");
  if (!b) return {};
  const spec = {
    host: "string?",
    port: "number?",
    user: "string?",
    hostKey: "string?",
    securityGroupId: "string?",
  } as const;
  if (!r.fields(`${NAMESPACE}:bastion`, b, spec)) return {};
  const securityGroupId = b.securityGroupId as string | undefined;
  if (b.host === undefined) return { securityGroupId };
  const privateKey =
    r.secret(
      "bastionPrivateKey",
      defaultKey
        ? {}
        : {
            required:
              "the private key the bastion accepts, with hakube:bastion.host (pulumi config set --secret)",
          },
    ) ?? defaultKey;
  const proxy: hakube.ProxyConnectionArgs = {
    host: b.host as string,
    port: b.port as number | undefined,
    user: (b.user as string | undefined) ?? "root",
    hostKey: b.hostKey as string | undefined,
    privateKey,
  };
  return { proxy, securityGroupId };
}

function aws() {
  const r = new ConfigReader(config, "aws");
  const kubernetes = readCluster(r);
  const etcd = readEtcd(r);
  const bastion = readBastion(r);
  const ami = r.string("awsAmi", {
    required:
      'the AMI of every instance, e.g. a Debian 12 or Ubuntu 24.04 AMI of the region ("ami-0123456789abcdef0")',
  });
  const zones = r.strings("awsZones");
  const vpcId = r.string("awsVpcId");
  const subnets = r.objects("awsSubnets", "subnets {id, zone, cidr}");
  subnets?.forEach((s, i) =>
    r.fields(`${NAMESPACE}:awsSubnets[${i}]`, s, { id: "string", zone: "string", cidr: "string" }),
  );
  // Zones belong to the provider's region: catch a mismatch here rather than in AWS's error.
  const region = new pulumi.Config("aws").get("region");
  const usedZones =
    vpcId || subnets ? (subnets ?? []).map((s) => String(s.zone)) : (zones ?? [...AWS_DEFAULTS.zones]);
  const foreign = usedZones.filter((z) => region && !z.startsWith(region));
  if (foreign.length > 0) {
    r.problem(
      `${vpcId || subnets ? "hakube:awsSubnets[].zone" : "hakube:awsZones"} names zones outside aws:region ${region}: ${foreign.join(", ")}${zones ? "" : " (the default zones; set hakube:awsZones)"}`,
    );
  }
  const hostKeys = r.object("awsHostKeys");
  if (hostKeys && !Object.values(hostKeys).every(isOpenSshPublicKey)) {
    r.problem(
      `hakube:awsHostKeys must map instance names to SSH public keys ("m1": "ssh-ed25519 AAAA..."), got ${show(hostKeys)}`,
    );
  }
  const tags = r.object("awsTags");
  if (tags && !Object.values(tags).every((v) => typeof v === "string")) {
    r.problem(`hakube:awsTags must map tag names to strings, got ${show(tags)}`);
  }
  const args = {
    name: pulumi.getStack(),
    ami: ami ?? "",
    zones,
    vpcCidr: r.string("awsVpcCidr"),
    natGateways: r.string("awsNatGateways", { oneOf: Object.values(AwsNatGateways) }),
    vpcId,
    subnets: subnets as unknown as AwsSubnetArgs[] | undefined,
    masterCount: r.integer("awsMasterCount", { min: 1, unset: 0 }),
    workerCount: r.integer("awsWorkerCount", { min: 0, unset: -1 }),
    etcdCount: r.integer("awsEtcdCount", { min: 1, unset: 0 }),
    masterInstanceType: r.string("awsMasterInstanceType"),
    workerInstanceType: r.string("awsWorkerInstanceType"),
    etcdInstanceType: r.string("awsEtcdInstanceType"),
    rootVolumeGb: r.integer("awsRootVolumeGb", { min: 8, max: 16384, unset: 0 }),
    sshCidrs: r.strings("awsSshCidrs"),
    allowSshFromAnywhere: r.boolean("awsAllowSshFromAnywhere"),
    bastion: bastion.proxy,
    bastionSecurityGroupId: bastion.securityGroupId,
    hostKeys: hostKeys as Record<string, string> | undefined,
    apiDnsName: r.string("awsApiDnsName"),
    apiAllowedCidrs: r.strings("awsApiAllowedCidrs"),
    kubernetes,
    etcd,
    etcdBackup: r.boolean("awsEtcdBackup"),
    etcdBackupExpireDays: r.integer("awsEtcdBackupExpireDays", { min: 1, max: 3650, unset: 0 }),
    tags: tags as Record<string, string> | undefined,
  };
  r.check();
  return awsStack(args);
}

function bareMetal() {
  const r = new ConfigReader(config, "bare-metal");
  const kubernetes = readCluster(r);
  const etcd = readEtcd(r);
  const privateKey = r.secret("sshPrivateKey", {
    required:
      "the SSH private key every host accepts (pulumi config set --secret hakube:sshPrivateKey < key)",
  });
  const bastion = readBastion(r, privateKey);
  const masters = readHosts(
    r,
    "masters",
    "the control-plane hosts, each {name, address, hostKey, user?, port?}",
  );
  const args = {
    masters: masters ?? [],
    workers: readHosts(r, "workers"),
    etcdHosts: readHosts(r, "etcdHosts"),
    lbHosts: readHosts(r, "lbHosts"),
    privateKey: privateKey ?? "",
    bastion: bastion.proxy,
    apiEndpoint: r.string("apiEndpoint", { oneOf: Object.values(ApiEndpointKind) }),
    vip: {
      address: r.string("vipAddress"),
      interface: r.string("vipInterface"),
      virtualRouterId: r.integer("vipRouterId", { min: 1, max: 255, unset: 0 }),
    },
    // 0 (Pulumi.yaml's default) means the endpoint kind's port.
    apiPort: r.integer("apiPort", { min: 0, max: 65535 }) || undefined,
    kubernetes,
    etcd,
  };
  r.check();
  return bareMetalStack(args);
}

const programs: Record<string, () => Record<string, unknown>> = { aws, "bare-metal": bareMetal };
const platform = config.get("platform");
const program = platform ? programs[platform] : undefined;
if (!program) {
  throw new pulumi.RunError(
    `hakube:platform must be one of ${Object.keys(programs).join(", ")}, got ${show(platform ?? "")} (pulumi config set hakube:platform <platform>)`,
  );
}
module.exports = program();
