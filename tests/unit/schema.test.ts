/**
 * Other Pulumi languages use hakube through the component provider that PulumiPlugin.yaml makes of the
 * npm package: Pulumi's analyzer (`@pulumi/pulumi/provider/experimental`) reads the exported components'
 * args from the TypeScript sources. It must accept every component: `args` typed by an interface, enums
 * as `const` objects with string-literal union types, Inputs where values flow from other resources.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as hakube from "../../index";

interface Schema {
  resources: Record<
    string,
    { inputProperties: Record<string, { plain?: boolean; $ref?: string; type?: string }> }
  >;
  types: Record<
    string,
    {
      type: string;
      enum?: Array<{ name: string; value: string }>;
      properties?: Record<string, { plain?: boolean; type?: string }>;
    }
  >;
}

describe("component provider schema (Pulumi's analyzer)", function () {
  this.timeout(300000);
  let schema: Schema;
  before(async () => {
    const provider = new ComponentProvider({
      components: getPulumiComponents(hakube),
      dirname: path.resolve(__dirname, "../.."),
      name: "hakube",
    });
    schema = JSON.parse(await provider.getSchema()) as Schema;
  });

  it("accepts every component", () => {
    assert.deepEqual(Object.keys(schema.resources).sort(), [
      "hakube:index:CertificateAuthority",
      "hakube:index:EtcdCluster",
      "hakube:index:HaControlPlane",
      "hakube:index:KeepalivedVip",
      "hakube:index:LoadBalancer",
    ]);
  });

  it("turns the const-object enums into string enums with their names and values", () => {
    assert.deepEqual(
      schema.types["hakube:index:LoadBalancerKind"].enum?.map((e) => [e.name, e.value]),
      [
        ["Haproxy", "haproxy"],
        ["AwsNlb", "awsNlb"],
      ],
    );
    assert.deepEqual(
      schema.types["hakube:index:InstallMethod"].enum?.map((e) => e.value),
      ["package", "release", "preinstalled"],
      "one install method for every daemon",
    );
    for (const name of ["KeyAlgorithm", "VipHealthCheckKind", "EtcdTopology", "CniKind"]) {
      assert.equal(schema.types[`hakube:index:${name}`]?.type, "string", name);
    }
  });

  it("takes Inputs where outputs of other resources flow in", () => {
    const endpoint = schema.resources["hakube:index:HaControlPlane"].inputProperties.endpoint;
    assert.equal(endpoint.plain, undefined, "HaControlPlane.endpoint is an Input");
    const host = schema.types["hakube:index:HostArgs"].properties!;
    assert.equal(host.address.plain, undefined, "HostArgs.address is an Input");
    const haproxy = schema.types["hakube:index:HaproxyArgs"].properties!;
    assert.equal(haproxy.bindAddress.plain, undefined, "HaproxyArgs.bindAddress is an Input");
  });
});
