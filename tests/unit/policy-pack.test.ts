/**
 * The policy pack served as the Pulumi CLI runs it: policy/index.ts started in policy/ (it prints the port of
 * its gRPC analyzer server, as @pulumi/policy does for the CLI), then the engine's calls made here over
 * gRPC: GetAnalyzerInfo, Configure (a user's enforcement-level override), ConfigureStack (stack tags) and
 * Analyze. No Pulumi CLI is needed; what the CLI itself does around these calls is not tested.
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { policies, PRODUCTION_TAG } from "../../policy/policies";

const ROOT = path.resolve(__dirname, "../..");
/** The wire values of EnforcementLevel. */
const ADVISORY = analyzerproto.EnforcementLevel.ADVISORY;
const MANDATORY = analyzerproto.EnforcementLevel.MANDATORY;

describe("policy pack served to the engine (gRPC, as the CLI runs it)", function () {
  this.timeout(60000);
  let pack: ChildProcess | undefined;
  let client: analyzerrpc.AnalyzerClient;

  type Method = "analyze" | "getAnalyzerInfo" | "configure" | "configureStack";
  type Unary = (req: unknown, cb: (e: grpc.ServiceError | null, res: unknown) => void) => unknown;
  /** One unary call of the engine to the pack. */
  const call = <Res = unknown>(method: Method, req: unknown) =>
    new Promise<Res>((resolve, reject) =>
      (client[method] as unknown as Unary).call(client, req, (e, r) => (e ? reject(e) : resolve(r as Res))),
    );

  async function analyze(type: string, stack: string, props: Record<string, unknown>) {
    const req = new analyzerproto.AnalyzeRequest();
    req.setType(type);
    req.setName("r");
    req.setUrn(`urn:pulumi:${stack}::hakube::${type}::r`);
    req.setProperties(
      structproto.Struct.fromJavaScript(props as Record<string, structproto.JavaScriptValue>),
    );
    req.setOptions(new analyzerproto.AnalyzerResourceOptions());
    const res = await call<analyzerproto.AnalyzeResponse>("analyze", req);
    return res.getDiagnosticsList().map((d) => ({
      policy: d.getPolicyname(),
      level: d.getEnforcementlevel(),
      message: d.getMessage(),
    }));
  }

  async function tags(t: Record<string, string>) {
    const req = new analyzerproto.AnalyzerStackConfigureRequest();
    for (const [k, v] of Object.entries(t)) req.getTagsMap().set(k, v);
    await call("configureStack", req);
  }

  before(async () => {
    pack = spawn(path.join(ROOT, "node_modules/.bin/tsx"), ["index.ts"], {
      cwd: path.join(ROOT, "policy"),
      stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the policy pack printed no port in 45 s")), 45000);
      pack!.stdout!.once("data", (d) => {
        clearTimeout(timer);
        resolve(String(d).trim());
      });
      pack!.once("exit", (code) =>
        reject(new Error(`the policy pack exited (${code}) before printing its port`)),
      );
    });
    assert.match(port, /^\d+$/);
    client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    pack?.kill();
  });

  it("serves every policy of policy/policies.ts, mandatory by default", async () => {
    const info = await call<analyzerproto.AnalyzerInfo>("getAnalyzerInfo", new emptyproto.Empty());
    assert.equal(info.getName(), "hakube");
    assert.deepEqual(
      info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]),
      policies.map((p) => [p.name, MANDATORY]),
    );
  });

  it("reports a 2-member EtcdCluster in a production stack with why and how to fix, not in dev", async () => {
    const prod = await analyze("hakube:index:EtcdCluster", "prod", { memberCount: 2 });
    assert.equal(prod.length, 1);
    assert.equal(prod[0].policy, "hakube-etcd-quorum");
    assert.equal(prod[0].level, MANDATORY);
    assert.match(prod[0].message, /etcd needs a majority/);
    assert.match(prod[0].message, /Use 3, 5 or 7 members/);
    assert.deepEqual(await analyze("hakube:index:EtcdCluster", "dev", { memberCount: 2 }), []);
    assert.deepEqual(await analyze("hakube:index:EtcdCluster", "prod", { memberCount: 3 }), []);
  });

  it("takes the hakube:production stack tag from the engine", async () => {
    await tags({ [PRODUCTION_TAG]: "true" });
    try {
      assert.equal((await analyze("hakube:index:EtcdCluster", "dev", { memberCount: 4 })).length, 1);
    } finally {
      await tags({});
    }
  });

  it("lets the user override a policy's enforcement level (Configure, as --policy-pack-config does)", async () => {
    const req = new analyzerproto.ConfigureAnalyzerRequest();
    const advisory = new analyzerproto.PolicyConfig();
    advisory.setEnforcementlevel(ADVISORY);
    advisory.setProperties(structproto.Struct.fromJavaScript({}));
    req.getPolicyconfigMap().set("hakube-vip-health-check", advisory);
    await call("configure", req);
    try {
      const d = await analyze("hakube:index:KeepalivedVip", "prod", { healthCheckKind: "none" });
      assert.deepEqual(
        d.map((x) => [x.policy, x.level]),
        [["hakube-vip-health-check", ADVISORY]],
      );
    } finally {
      await call("configure", new analyzerproto.ConfigureAnalyzerRequest());
    }
  });

  it("leaves a value unknown during preview to an advisory note instead of failing", async () => {
    const d = await analyze("aws:lb/loadBalancer:LoadBalancer", "prod", {
      loadBalancerType: "network",
      subnets: "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // the engine's unknown-value sentinel
      enableCrossZoneLoadBalancing: true,
    });
    assert.deepEqual(
      d.map((x) => [x.policy, x.level]),
      [["hakube-nlb-across-zones", ADVISORY]],
    );
    assert.match(d[0].message, /can't run policy 'hakube-nlb-across-zones' .* during preview/);
  });
});
