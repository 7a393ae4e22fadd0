/**
 * The recorder the unit tests and the topology benchmark run programs under (Pulumi's mocks: nothing is
 * deployed): every resource a program registers, with its inputs, the time it was
 * registered and the time its (mock) creation finished. Unknown types and invokes throw, so a component
 * that starts using something new fails its tests until they say what it should get.
 */
import * as pulumi from "@pulumi/pulumi";
import type { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import type * as resproto from "@pulumi/pulumi/proto/resource_pb";

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  registeredAt: number;
  resolvedAt: number;
}

/** True if a mock input value arrived wrapped as a Pulumi secret. */
export function isSecretInput(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] !== undefined;
}

/** The value inside a secret wrapper (or the value itself), recursively. */
export function unwrap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrap);
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG] !== undefined) return unwrap(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}

/** Fake but recognisable outputs: any PEM key contains FAKE-PRIVATE-KEY so leaks are easy to find. */
function outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "tls:index/privateKey:PrivateKey":
      return {
        ...inputs,
        privateKeyPem: `-----BEGIN FAKE-PRIVATE-KEY-----\n${name}\n-----END FAKE-PRIVATE-KEY-----\n`,
        publicKeyPem: `PUBLIC ${name}`,
        publicKeyOpenssh: `ssh-ed25519 AAAA${name}`,
        privateKeyOpenssh: `-----BEGIN OPENSSH FAKE-PRIVATE-KEY-----\n${name}\n-----END OPENSSH FAKE-PRIVATE-KEY-----\n`,
      };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { ...inputs, certPem: `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n` };
    case "tls:index/certRequest:CertRequest":
      return { ...inputs, certRequestPem: `CSR ${name}` };
    case "command:remote:Command":
    case "command:local:Command":
      return { ...inputs, stdout: `ran ${name}`, stderr: "" };
    case "random:index/randomPassword:RandomPassword":
    case "random:index/randomString:RandomString":
      return { ...inputs, result: `random-${name}` };
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        ...inputs,
        arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/${name}/0123456789abcdef`,
        dnsName: `${name}-0123456789abcdef.elb.us-east-1.amazonaws.com`,
        zoneId: "Z26RNL4JYFTOTI",
      };
    case "aws:lb/targetGroup:TargetGroup":
      return {
        ...inputs,
        arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/0123`,
      };
    case "aws:lb/listener:Listener":
      return {
        ...inputs,
        arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/${name}/0123`,
      };
    case "aws:s3/bucket:Bucket":
      // Auto-named like the provider does (name and a suffix), in the mocks' region.
      return {
        ...inputs,
        bucket: `${name}-0a1b2c3`,
        arn: `arn:aws:s3:::${name}-0a1b2c3`,
        region: "us-east-1",
      };
    case "aws:iam/role:Role":
    case "aws:iam/instanceProfile:InstanceProfile":
      return {
        ...inputs,
        name,
        arn: `arn:aws:iam::123456789012:${type.endsWith("Role") ? "role" : "instance-profile"}/${name}`,
      };
    case "aws:ec2/vpc:Vpc":
      return { ...inputs, cidrBlock: "10.0.0.0/16" };
    case "random:index/randomBytes:RandomBytes": {
      // 32 (or `length`) bytes that spell the resource name over and over: recognisable when leaked.
      const bytes = Buffer.alloc(Number(inputs.length ?? 32), name);
      return { ...inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    case "aws:ec2/instance:Instance":
      return { ...inputs, arn: `arn:aws:ec2:us-east-1:123456789012:instance/${name}-id` };
    case "aws:ec2/keyPair:KeyPair":
      return { ...inputs, keyName: inputs.keyName ?? `${name}-key` };
    case "aws:ec2/eip:Eip":
      return { ...inputs, allocationId: `eipalloc-${name}`, publicIp: "198.51.100.7" };
    case "aws:route53/zone:Zone":
      return { ...inputs, zoneId: `Z-${name}` };
    case "aws:route53/record:Record":
      return { ...inputs, fqdn: inputs.name };
    default:
      return inputs;
  }
}

export const MOCKED_TYPES = [
  "tls:index/privateKey:PrivateKey",
  "tls:index/selfSignedCert:SelfSignedCert",
  "tls:index/locallySignedCert:LocallySignedCert",
  "tls:index/certRequest:CertRequest",
  "command:remote:Command",
  "command:local:Command",
  "random:index/randomPassword:RandomPassword",
  "random:index/randomString:RandomString",
  "aws:lb/loadBalancer:LoadBalancer",
  "aws:lb/targetGroup:TargetGroup",
  "aws:lb/listener:Listener",
  "aws:lb/targetGroupAttachment:TargetGroupAttachment",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/vpc:Vpc",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "random:index/randomBytes:RandomBytes",
  "pulumi:providers:kubernetes",
  "kubernetes:helm.sh/v3:Release",
  // stacks/aws
  "aws:ec2/subnet:Subnet",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/eip:Eip",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/route:Route",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/keyPair:KeyPair",
  "aws:ec2/instance:Instance",
  "aws:route53/zone:Zone",
  "aws:route53/record:Record",
  // stacks/aws/backup.ts
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:iam/role:Role",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/instanceProfile:InstanceProfile",
];

/** What {@link Recorder.measure} saw: times in ms, memory in bytes. */
export interface ProgramFigures {
  programMs: number;
  registeredMs: number;
  heapBefore: number;
  peakHeap: number;
  peakRss: number;
}

/**
 * Extra outputs for some resources of one test (e.g. a real CA certificate where a component parses it):
 * merged over the fake outputs; undefined keeps them.
 */
export type OutputOverride = (
  type: string,
  name: string,
  inputs: Record<string, unknown>,
) => Record<string, unknown> | undefined;

/** Every self-signed certificate's PEM is `certPem` (a real CA where a component parses the certificate). */
export function selfSignedAs(certPem: string): OutputOverride {
  return (type) => (type === "tls:index/selfSignedCert:SelfSignedCert" ? { certPem } : undefined);
}

export class Recorder {
  readonly resources: Recorded[] = [];
  /** Every component resource registered, with the properties it registered (the facts policies see). */
  readonly components: Recorded[] = [];
  /** Each registered resource's direct dependencies, by name, as the SDK sent them (dependsOn and inputs' resources). */
  readonly dependencies = new Map<string, Set<string>>();
  /** Each registered resource's aliases, by name, as the SDK sent them (URNs or specs). */
  readonly aliases = new Map<string, ReturnType<resproto.RegisterResourceRequest["getAliasesList"]>>();
  /** Each registered resource's URN parent, by name (empty for the stack's children). */
  readonly parents = new Map<string, string>();
  private pending = 0;

  constructor(private readonly override?: OutputOverride) {}

  /** Install the mocks. `jitterMs` delays each creation randomly so independent resources race. */
  async install(jitterMs = 0): Promise<void> {
    await pulumi.runtime.setMocks(
      {
        newResource: async (args) => {
          const registeredAt = performance.now();
          if (!args.custom) {
            const component = { type: args.type, name: args.name, inputs: args.inputs };
            this.components.push({ ...component, registeredAt, resolvedAt: registeredAt });
            return { id: undefined, state: {} };
          }
          this.pending++;
          try {
            return await this.create(args, registeredAt, jitterMs);
          } finally {
            this.pending--;
          }
        },
        call: async (args) => {
          throw new Error(`Mock not implemented: invoke ${args.token}`);
        },
      },
      "hakube-test",
      "test",
      false,
    );
    this.recordDependencies();
  }

  /**
   * Wrap the mock monitor's registerResource to keep what plain mocks do not see: the dependencies the
   * SDK sends with each registration (explicit dependsOn, components expanded to their children, and the
   * resources behind every Output among the inputs).
   */
  private recordDependencies(): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
    const original = monitor.registerResource.bind(monitor);
    const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
    monitor.registerResource = (req: resproto.RegisterResourceRequest, callback) => {
      this.dependencies.set(req.getName(), new Set(req.getDependenciesList().map(nameOf)));
      this.aliases.set(req.getName(), req.getAliasesList());
      this.parents.set(req.getName(), req.getParent());
      return original(req, callback);
    };
  }

  /** True if `later` depends on `earlier`, directly or through other resources. */
  dependsOn(later: string, earlier: string): boolean {
    const seen = new Set<string>();
    const walk = (name: string): boolean => {
      for (const d of this.dependencies.get(name) ?? []) {
        if (d === earlier) return true;
        if (!seen.has(d)) {
          seen.add(d);
          if (walk(d)) return true;
        }
      }
      return false;
    };
    return walk(later);
  }

  private async create(args: pulumi.runtime.MockResourceArgs, registeredAt: number, jitterMs: number) {
    if (!MOCKED_TYPES.includes(args.type)) throw new Error(`Mock not implemented: ${args.type}`);
    if (jitterMs > 0) await new Promise((r) => setTimeout(r, Math.random() * jitterMs));
    const rec: Recorded = {
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      registeredAt,
      resolvedAt: 0,
    };
    this.resources.push(rec);
    const plain = unwrap(args.inputs) as Record<string, unknown>;
    const state = {
      ...outputsFor(args.type, args.name, plain),
      ...this.override?.(args.type, args.name, plain),
    };
    rec.resolvedAt = performance.now();
    return { id: `${args.name}-id`, state };
  }

  /** Resolves once no mock creation has been running for a while: every child is registered. */
  async idle(): Promise<void> {
    let quiet = 0;
    while (quiet < 4) {
      await new Promise((r) => setTimeout(r, 15));
      quiet = this.pending === 0 ? quiet + 1 : 0;
    }
  }

  /**
   * Run a program under the installed mocks and measure it: the time its constructors take, the time until
   * every resource is registered (idle() adds ~60 ms: 4 quiet polls of 15 ms after the last creation), and
   * this process's heap and RSS peaks, sampled every 5 ms and once right after the synchronous program
   * (the sampler cannot see inside it). Times in ms, memory in bytes.
   */
  async measure(program: () => void): Promise<ProgramFigures> {
    const heapBefore = process.memoryUsage().heapUsed;
    let peakHeap = heapBefore;
    let peakRss = process.memoryUsage().rss;
    const sample = () => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    };
    const sampler = setInterval(sample, 5);
    const t0 = performance.now();
    program();
    const programMs = performance.now() - t0;
    sample();
    await this.idle();
    const registeredMs = performance.now() - t0;
    clearInterval(sampler);
    return { programMs, registeredMs, heapBefore, peakHeap, peakRss };
  }

  byType(type: string): Recorded[] {
    return this.resources.filter((r) => r.type === type);
  }

  get(name: string): Recorded {
    const r = this.resources.find((x) => x.name === name);
    if (!r)
      throw new Error(`no resource named ${name}; have ${this.resources.map((x) => x.name).join(", ")}`);
    return r;
  }

  names(type?: string): string[] {
    return (type ? this.byType(type) : this.resources).map((r) => r.name).sort();
  }
}

/** Resolve an Output in a test. */
export function resolve<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((r) => o.apply((v) => r(v)));
}
