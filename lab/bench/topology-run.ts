/**
 * One try of the topology benchmark, in a process of its own (run by topology.ts): evaluates the
 * bare-metal stack with `masters` masters and `workers` workers under Pulumi's runtime with mocks (the
 * Recorder the unit tests use too: nothing is deployed) and prints one JSON line: the resources, the time to run the
 * program (its constructors), the time until every resource was registered, and the heap and RSS peaks
 * (sampled every 5 ms, and once right after the synchronous program).
 *
 *   tsx lab/bench/topology-run.ts <masters> <workers>
 */
import * as hakube from "../../index";
import { bareMetalStack, BareMetalHostArgs } from "../../stacks/bare-metal/program";
import { Recorder, selfSignedAs } from "../stack/recorder";
import * as providers from "../providers";

export interface TopologyFigures {
  resources: number;
  programMs: number;
  registeredMs: number;
  heapBeforeMb: number;
  peakHeapMb: number;
  peakRssMb: number;
}

/** `n` hosts named <prefix>1.. at consecutive addresses from 10.0.<x>.11, 200 to a /24. */
function hostsOf(prefix: string, n: number, third: number): BareMetalHostArgs[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${i + 1}`,
    address: `10.0.${third + Math.floor(i / 200)}.${11 + (i % 200)}`,
    hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${prefix}${i + 1}`,
  }));
}

/** A real self-signed CA certificate: HaControlPlane hashes the cluster CA for kubeadm's discovery. */
async function caCertPem(): Promise<string> {
  const key = await providers.create("tls:index/privateKey:PrivateKey", {
    algorithm: "ECDSA",
    ecdsaCurve: "P256",
  });
  const ca = await providers.create("tls:index/selfSignedCert:SelfSignedCert", {
    privateKeyPem: key.outputs.privateKeyPem,
    isCaCertificate: true,
    allowedUses: ["cert_signing", "digital_signature"],
    validityPeriodHours: 24,
    subject: { commonName: "kubernetes" },
  });
  return String(ca.outputs.certPem);
}

async function measure(masters: number, workers: number): Promise<TopologyFigures> {
  const ca = await caCertPem();
  const rec = new Recorder(selfSignedAs(ca));
  await rec.install();
  const mb = (n: number) => Math.round(n / 1048576);
  const f = await rec.measure(() =>
    bareMetalStack({
      masters: hostsOf("m", masters, 0),
      workers: hostsOf("w", workers, 1),
      privateKey:
        "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE-PRIVATE-KEY topology\n-----END OPENSSH PRIVATE KEY-----\n",
      vip: { address: "10.0.0.10/24", interface: "eth0" },
      kubernetes: { kubernetesVersion: "1.31.4", cni: { kind: hakube.CniKind.Cilium, version: "1.16.5" } },
    }),
  );
  return {
    resources: rec.resources.length,
    programMs: Math.round(f.programMs),
    registeredMs: Math.round(f.registeredMs),
    heapBeforeMb: mb(f.heapBefore),
    peakHeapMb: mb(f.peakHeap),
    peakRssMb: mb(f.peakRss),
  };
}

if (require.main === module) {
  const [m, w] = process.argv.slice(2).map(Number);
  measure(m, w).then(
    (f) => console.log(JSON.stringify(f)),
    (e: Error) => {
      console.error(e.stack ?? e.message);
      process.exit(1);
    },
  );
}
