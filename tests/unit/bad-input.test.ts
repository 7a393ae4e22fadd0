/**
 * Bad input is refused clearly, before anything is registered, and never leaks: each case builds a
 * component (or calls issueCertificate) with one thing wrong and asserts the exact message, naming the
 * component and the field; that no resource was registered; and that no warning was logged (warnings
 * about args that are refused anyway are noise).
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as hakube from "../../index";
import { hosts } from "./helpers/hosts";
import { captureWarnings, Recorder } from "./helpers/mocks";

const SHA = "a".repeat(64);
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE-CANARY\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDmUhrTYsgqkmBpF4y8FlmvZsPQ1mpcTcxpDr5vy8Ex7";
const HOST_KEY_MESSAGE = `must be the host's OpenSSH public key line, "<type> <base64>" as ssh-keyscan prints it after the host name (such as "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI..."), got`;
const CA: hakube.CaKeyPairArgs = { certPem: PEM, privateKeyPem: KEY };

/** hosts(n) with one host's connection replaced. */
function withConnection(n: number, i: number, connection: unknown): hakube.HostArgs[] {
  const h = hosts(n);
  h[i] = { ...h[i], connection: connection as hakube.ConnectionArgs };
  return h;
}
function without(n: number, i: number, key: "connection" | "address"): hakube.HostArgs[] {
  const h = hosts(n) as unknown as Array<Record<string, unknown>>;
  delete h[i][key];
  return h as unknown as hakube.HostArgs[];
}
const conn = (over: Record<string, unknown>) => ({ host: "10.0.0.12", privateKey: KEY, ...over });

const etcd = (over: Record<string, unknown>) => () =>
  new hakube.EtcdCluster("etcd", {
    members: hosts(3),
    install: { sha256: SHA },
    ...over,
  } as hakube.EtcdClusterArgs);
const ca = (over: Record<string, unknown>) => () =>
  new hakube.CertificateAuthority("ca", { commonName: "ca", ...over } as hakube.CertificateAuthorityArgs);
const issue =
  (over: Record<string, unknown>, authority: { ca?: unknown } = { ca: CA }) =>
  () =>
    hakube.issueCertificate(
      "leaf",
      authority.ca as hakube.CaKeyPairArgs,
      { commonName: "leaf", role: "client", ...over } as hakube.CertificateRequestArgs,
      {},
    );
const vip = (over: Record<string, unknown>) => () =>
  new hakube.KeepalivedVip("vip", {
    address: "10.0.0.10/24",
    interface: "eth0",
    members: hosts(3),
    virtualRouterId: 51,
    ...over,
  } as hakube.KeepalivedVipArgs);
const haproxy =
  (over: Record<string, unknown>, top: Record<string, unknown> = {}) =>
  () =>
    new hakube.LoadBalancer("lb", {
      kind: "haproxy",
      port: 8443,
      haproxy: {
        hosts: hosts(3),
        bindAddress: "10.0.0.10",
        backends: hosts(3).map(({ name, address }) => ({ name, address })),
        ...over,
      },
      ...top,
    } as hakube.LoadBalancerArgs);
const plane = (over: Record<string, unknown>) => () =>
  new hakube.HaControlPlane("k8s", {
    masters: hosts(3),
    endpoint: "10.0.0.10:6443",
    kubernetesVersion: "1.33.1",
    ...over,
  } as hakube.HaControlPlaneArgs);

type Case = [string, () => unknown, string];

/**
 * What every component refuses alike in a host list `field` (`build` makes the component with that list):
 * host [0] without connection, host [2] on SSH port 0, host [1] with `hostKey` that is no OpenSSH key line.
 */
function connectionCases(
  who: string,
  field: string,
  build: (hosts: hakube.HostArgs[]) => () => unknown,
  hostKey: string,
): Case[] {
  const [component] = who.split(" ");
  const refused = `${who} has invalid arguments:\n  - ${field}`;
  return [
    [
      `${component}: ${field}[0] without connection`,
      build(without(3, 0, "connection")),
      `${refused}[0].connection must be an object with at least host (how to reach the machine over SSH), got undefined`,
    ],
    [
      `${component}: ${field}[2] on SSH port 0`,
      build(withConnection(3, 2, conn({ port: 0 }))),
      `${refused}[2].connection.port must be a port number 1-65535, got 0`,
    ],
    [
      `${component}: ${field}[1] with hostKey ${JSON.stringify(hostKey)}`,
      build(withConnection(3, 1, conn({ hostKey }))),
      `${refused}[1].connection.hostKey ${HOST_KEY_MESSAGE} "${hostKey}"`,
    ],
  ];
}

const cases: Case[] = [
  // EtcdCluster
  [
    "EtcdCluster: a host without connection",
    etcd({ members: without(3, 1, "connection") }),
    "EtcdCluster etcd has invalid arguments:\n  - members[1].connection must be an object with at least host (how to reach the machine over SSH), got undefined",
  ],
  [
    "EtcdCluster: a host without address",
    etcd({ members: without(3, 2, "address") }),
    "EtcdCluster etcd has invalid arguments:\n  - members[2].address must be an IPv4 or IPv6 address, got undefined",
  ],
  [
    "EtcdCluster: a private key instead of a host",
    etcd({ members: [KEY] }),
    `EtcdCluster etcd has invalid arguments:\n  - members[0] must be a host: an object with name, address and connection, got a string of ${KEY.length} characters (not shown)`,
  ],
  [
    "EtcdCluster: SSH port 0",
    etcd({ members: withConnection(3, 1, conn({ port: 0 })) }),
    "EtcdCluster etcd has invalid arguments:\n  - members[1].connection.port must be a port number 1-65535, got 0",
  ],
  [
    "EtcdCluster: SSH port as a string",
    etcd({ members: withConnection(3, 1, conn({ port: "22" })) }),
    'EtcdCluster etcd has invalid arguments:\n  - members[1].connection.port must be a port number 1-65535, got "22"',
  ],
  [
    "EtcdCluster: hostKey as a known_hosts line",
    etcd({ members: withConnection(3, 0, conn({ hostKey: `10.0.0.11 ${HOST_KEY}` })) }),
    `EtcdCluster etcd has invalid arguments:\n  - members[0].connection.hostKey ${HOST_KEY_MESSAGE} "10.0.0.11 ${HOST_KEY}"`,
  ],
  [
    "EtcdCluster: hostKey of an unknown type",
    etcd({ members: withConnection(3, 0, conn({ hostKey: "ssh-foo AAAA" })) }),
    `EtcdCluster etcd has invalid arguments:\n  - members[0].connection.hostKey ${HOST_KEY_MESSAGE} "ssh-foo AAAA"`,
  ],
  [
    "EtcdCluster: hostKey whose key is of another type",
    etcd({ members: withConnection(3, 0, conn({ hostKey: HOST_KEY.replace("ssh-ed25519", "ssh-rsa") })) }),
    `EtcdCluster etcd has invalid arguments:\n  - members[0].connection.hostKey ${HOST_KEY_MESSAGE} "${HOST_KEY.replace("ssh-ed25519", "ssh-rsa")}"`,
  ],
  [
    "EtcdCluster: a private key as hostKey",
    etcd({ members: withConnection(3, 0, conn({ hostKey: KEY })) }),
    `EtcdCluster etcd has invalid arguments:\n  - members[0].connection.hostKey ${HOST_KEY_MESSAGE} a string of ${KEY.length} characters (not shown)`,
  ],
  [
    "EtcdCluster: connection.host with a space",
    etcd({ members: withConnection(3, 1, conn({ host: "10.0.0.12 x" })) }),
    'EtcdCluster etcd has invalid arguments:\n  - members[1].connection.host must be the IP address or DNS name to connect to, got "10.0.0.12 x"',
  ],
  [
    "EtcdCluster: a user with a shell character",
    etcd({ members: withConnection(3, 1, conn({ user: "root;id" })) }),
    `EtcdCluster etcd has invalid arguments:\n  - members[1].connection.user must be a user name (letters, digits, '.', '_', '-'), got "root;id"`,
  ],
  [
    "EtcdCluster: dialErrorLimit 0",
    etcd({ members: withConnection(3, 1, conn({ dialErrorLimit: 0 })) }),
    "EtcdCluster etcd has invalid arguments:\n  - members[1].connection.dialErrorLimit must be a whole number, at least 1, got 0",
  ],
  [
    "EtcdCluster: a bastion on port 70000",
    etcd({ members: withConnection(3, 2, conn({ proxy: { host: "10.0.0.2", port: 70000 } })) }),
    "EtcdCluster etcd has invalid arguments:\n  - members[2].connection.proxy.port must be a port number 1-65535, got 70000",
  ],
  [
    "EtcdCluster: a bastion behind a bastion",
    etcd({
      members: withConnection(3, 2, conn({ proxy: { host: "10.0.0.2", proxy: { host: "10.0.0.3" } } })),
    }),
    'EtcdCluster etcd has invalid arguments:\n  - members[2].connection.proxy.proxy has a proxy of its own: @pulumi/command connects through one bastion only, got an object with the keys "host" (values not shown)',
  ],
  [
    "EtcdCluster: certificate validity 0",
    etcd({ certificates: { validityHours: 0 } }),
    "EtcdCluster etcd has invalid arguments:\n  - certificates.validityHours must be a whole number of hours, at least 1, got 0",
  ],
  [
    "EtcdCluster: negative certificate validity",
    etcd({ certificates: { validityHours: -24 } }),
    "EtcdCluster etcd has invalid arguments:\n  - certificates.validityHours must be a whole number of hours, at least 1, got -24",
  ],
  [
    "EtcdCluster: certificate validity not a number",
    etcd({ certificates: { validityHours: "8760" } }),
    'EtcdCluster etcd has invalid arguments:\n  - certificates.validityHours must be a whole number of hours, at least 1, got "8760"',
  ],
  [
    "EtcdCluster: certificate validity NaN",
    etcd({ certificates: { validityHours: NaN } }),
    "EtcdCluster etcd has invalid arguments:\n  - certificates.validityHours must be a whole number of hours, at least 1, got NaN",
  ],
  [
    "EtcdCluster: a backup interval no calendar can keep",
    etcd({ backup: { intervalSeconds: 45 } }),
    "EtcdCluster etcd has invalid arguments:\n  - backup.intervalSeconds must be whole seconds, at least 10, that divide a minute (10, 12, 15, 20, 30), an hour in whole minutes (60, 120, ..., 900, 1800, 3600) or a day in whole hours (7200, ..., 43200, 86400), got 45",
  ],
  [
    "EtcdCluster: a backup copy target with its key where the host key goes",
    etcd({ backup: { copyTo: { host: "10.0.0.50", user: "backup", privateKey: KEY, hostKey: KEY } } }),
    `EtcdCluster etcd has invalid arguments:\n  - backup.copyTo.hostKey must be the target's OpenSSH public key line ("ssh-ed25519 AAAA...", as ssh-keyscan prints it after the host name): the copy refuses any other server, got a string of ${KEY.length} characters (not shown)`,
  ],
  [
    "EtcdCluster: encrypted backups without a copy",
    etcd({ backup: { encryptTo: { certificatePem: PEM } } }),
    "EtcdCluster etcd has invalid arguments:\n  - backup.encryptTo encrypts the copies that leave the host, so it needs backup.copyTo or backup.s3, got neither",
  ],
  [
    "EtcdCluster: an S3 backup bucket with upper-case letters and a region that is a zone",
    etcd({ backup: { s3: { bucket: "My_Bucket", region: "eu-west-1a" } } }),
    `EtcdCluster etcd has invalid arguments:\n  - backup.s3.bucket must be an S3 bucket name (3-63 lower-case letters, digits, '.' and '-', a letter or digit at both ends, no "..", not an IP address), got "My_Bucket"\n  - backup.s3.region must be an AWS region name such as "eu-west-1", got "eu-west-1a"`,
  ],
  [
    "EtcdCluster: an S3 backup prefix with a leading slash",
    etcd({ backup: { s3: { bucket: "etcd-backups", prefix: "/etcd", region: "eu-west-1" } } }),
    `EtcdCluster etcd has invalid arguments:\n  - backup.s3.prefix must be segments of letters, digits, '.', '_' and '-' joined by '/', without a leading or trailing '/' (such as "etcd/prod"), got "/etcd"`,
  ],
  [
    "EtcdCluster: a restore without a proper sha256",
    etcd({ restoreFrom: { path: "/root/snap.db", sha256: "abc" } }),
    'EtcdCluster etcd has invalid arguments:\n  - restoreFrom.sha256 must be the snapshot\'s sha256 (64 lower-case hex digits) so that nothing unverified is restored, got "abc"',
  ],
  [
    "EtcdCluster: a version outside the official checksum table without sha256",
    etcd({ version: "3.4.23", install: {} }),
    "EtcdCluster etcd has invalid arguments:\n  - install.sha256 is required for etcd 3.4.23 on amd64: hakube knows the official sha256 of the releases 3.5.6 to 3.6.14 (amd64, arm64) only; give the release tarball's sha256 (64 lower-case hex digits) so that nothing unverified is installed, got undefined",
  ],
  [
    "EtcdCluster: early renewal equal to the validity",
    etcd({ certificates: { validityHours: 720, earlyRenewalHours: 720 } }),
    "EtcdCluster etcd has invalid arguments:\n  - certificates.earlyRenewalHours must be less than certificates.validityHours (720): a certificate always inside its renewal window is reissued by every `pulumi up`, got 720",
  ],
  [
    "EtcdCluster: negative early renewal",
    etcd({ certificates: { earlyRenewalHours: -1 } }),
    "EtcdCluster etcd has invalid arguments:\n  - certificates.earlyRenewalHours must be a whole number of hours, 0 or more, got -1",
  ],
  [
    "EtcdCluster: unknown key algorithm",
    etcd({ certificates: { keyAlgorithm: "P224" } }),
    'EtcdCluster etcd has invalid arguments:\n  - certificates.keyAlgorithm must be one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, ED25519, got "P224"',
  ],
  [
    "EtcdCluster: certificates not an object",
    etcd({ certificates: "1y" }),
    'EtcdCluster etcd has invalid arguments:\n  - certificates must be an object with keyAlgorithm, validityHours and earlyRenewalHours, got "1y"',
  ],
  [
    "EtcdCluster: a CA that is a string",
    etcd({ ca: KEY }),
    `EtcdCluster etcd has invalid arguments:\n  - ca must be a CA key pair: a CertificateAuthority, or an object with certPem, privateKeyPem and keyAlgorithm, got a string of ${KEY.length} characters (not shown)`,
  ],
  [
    "EtcdCluster: a CA without its key",
    etcd({ ca: { certPem: PEM } }),
    "EtcdCluster etcd has invalid arguments:\n  - ca.privateKeyPem is required, got undefined",
  ],
  [
    "EtcdCluster: a CA certificate that is no PEM",
    etcd({ ca: { certPem: "hello", privateKeyPem: KEY } }),
    'EtcdCluster etcd has invalid arguments:\n  - ca.certPem must be a PEM certificate ("-----BEGIN CERTIFICATE-----..."), got "hello"',
  ],
  [
    "EtcdCluster: a CA with an unknown algorithm",
    etcd({ ca: { ...CA, keyAlgorithm: "DSA" } }),
    'EtcdCluster etcd has invalid arguments:\n  - ca.keyAlgorithm must be one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, ED25519, got "DSA"',
  ],
  // CertificateAuthority
  [
    "CertificateAuthority: empty commonName",
    ca({ commonName: " " }),
    'CertificateAuthority ca has invalid arguments:\n  - commonName must be a non-empty string, got " "',
  ],
  [
    "CertificateAuthority: validity 0",
    ca({ validityHours: 0 }),
    "CertificateAuthority ca has invalid arguments:\n  - validityHours must be a whole number of hours, at least 1, got 0",
  ],
  [
    "CertificateAuthority: negative validity",
    ca({ validityHours: -1 }),
    "CertificateAuthority ca has invalid arguments:\n  - validityHours must be a whole number of hours, at least 1, got -1",
  ],
  [
    "CertificateAuthority: validity not a number",
    ca({ validityHours: "10y" }),
    'CertificateAuthority ca has invalid arguments:\n  - validityHours must be a whole number of hours, at least 1, got "10y"',
  ],
  [
    "CertificateAuthority: early renewal not below validity",
    ca({ validityHours: 100, earlyRenewalHours: 150 }),
    "CertificateAuthority ca has invalid arguments:\n  - earlyRenewalHours must be less than validityHours (100): a certificate always inside its renewal window is reissued by every `pulumi up`, got 150",
  ],
  [
    "CertificateAuthority: unknown key algorithm",
    ca({ keyAlgorithm: "DSA" }),
    'CertificateAuthority ca has invalid arguments:\n  - keyAlgorithm must be one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, ED25519, got "DSA"',
  ],
  [
    "CertificateAuthority: empty organization",
    ca({ organization: "" }),
    'CertificateAuthority ca has invalid arguments:\n  - organization must be a non-empty string, got ""',
  ],
  // issueCertificate
  [
    "issueCertificate: unknown role",
    issue({ role: "serverx" }),
    'issueCertificate leaf has invalid arguments:\n  - role must be one of server, client, peer, got "serverx"',
  ],
  [
    "issueCertificate: no role",
    issue({ role: undefined }),
    "issueCertificate leaf has invalid arguments:\n  - role is required: one of server, client, peer, got undefined",
  ],
  [
    "issueCertificate: validity 0",
    issue({ validityHours: 0 }),
    "issueCertificate leaf has invalid arguments:\n  - validityHours must be a whole number of hours, at least 1, got 0",
  ],
  [
    "issueCertificate: early renewal above validity",
    issue({ validityHours: 24, earlyRenewalHours: 48 }),
    "issueCertificate leaf has invalid arguments:\n  - earlyRenewalHours must be less than validityHours (24): a certificate always inside its renewal window is reissued by every `pulumi up`, got 48",
  ],
  [
    "issueCertificate: unknown key algorithm",
    issue({ keyAlgorithm: "RSA_1024" }),
    'issueCertificate leaf has invalid arguments:\n  - keyAlgorithm must be one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, ED25519, got "RSA_1024"',
  ],
  [
    "issueCertificate: a SAN that is neither IP nor DNS name",
    issue({ altNames: ["10.0.0.1", "not a name"] }),
    'issueCertificate leaf has invalid arguments:\n  - altNames[1] must be an IP address or a DNS name, got "not a name"',
  ],
  [
    "issueCertificate: no CA",
    issue({}, {}),
    "issueCertificate leaf has invalid arguments:\n  - ca is required, got undefined",
  ],
  [
    "issueCertificate: no commonName",
    issue({ commonName: undefined }),
    "issueCertificate leaf has invalid arguments:\n  - commonName must be a non-empty string, got undefined",
  ],
  // KeepalivedVip
  ...connectionCases("KeepalivedVip vip", "members", (members) => vip({ members }), "SHA256:abcdef"),
  [
    "KeepalivedVip: readyTimeoutSeconds too short",
    vip({ readyTimeoutSeconds: 5 }),
    "KeepalivedVip vip has invalid arguments:\n  - readyTimeoutSeconds must be a whole number of seconds, at least 10, got 5",
  ],
  [
    "KeepalivedVip: address without prefix",
    vip({ address: "10.0.0.10" }),
    'KeepalivedVip vip has invalid arguments:\n  - address must be an IP address with the prefix length of its subnet, such as "10.0.0.10/24", got "10.0.0.10"',
  ],
  [
    "KeepalivedVip: the VIP is a member's address",
    vip({ address: "10.0.0.12/24" }),
    'KeepalivedVip vip has invalid arguments:\n  - address "10.0.0.12/24" is members[1].address; the virtual IP must be an address that no host owns',
  ],
  [
    "KeepalivedVip: virtualRouterId 256",
    vip({ virtualRouterId: 256 }),
    "KeepalivedVip vip has invalid arguments:\n  - virtualRouterId must be a whole number 1-255, unique among the VRRP groups of the network, got 256",
  ],
  [
    "KeepalivedVip: unknown health check kind",
    vip({ healthCheck: { kind: "tcp" } }),
    'KeepalivedVip vip has invalid arguments:\n  - healthCheck.kind must be one of apiServer, haproxy, none, got "tcp"',
  ],
  // LoadBalancer
  [
    "LoadBalancer: HAProxy on the masters' own API port",
    haproxy({}, { port: undefined }),
    'LoadBalancer lb has invalid arguments:\n  - port must differ from backendPort (6443) when HAProxy runs on the API servers themselves (haproxy.hosts[0] "10.0.0.11" is also a backend, where kube-apiserver listens on every address of 6443); use 8443, got 6443',
  ],
  [
    "LoadBalancer: unknown kind",
    haproxy({}, { kind: "nginx" }),
    'LoadBalancer lb has invalid arguments:\n  - kind must be one of haproxy, awsNlb, got "nginx"',
  ],
  ...connectionCases(
    "LoadBalancer lb",
    "haproxy.hosts",
    (hosts) => haproxy({ hosts }),
    "AAAAC3NzaC1lZDI1NTE5",
  ),
  [
    "LoadBalancer: bindAddress with a prefix",
    haproxy({ bindAddress: "10.0.0.10/24" }),
    'LoadBalancer lb has invalid arguments:\n  - haproxy.bindAddress must be an IPv4 or IPv6 address (without prefix), got "10.0.0.10/24"',
  ],
  [
    "LoadBalancer: health port equal to port",
    haproxy({ healthPort: 8443 }),
    "LoadBalancer lb has invalid arguments:\n  - haproxy.healthPort must differ from port, both are 8443",
  ],
  [
    "LoadBalancer: no backends",
    haproxy({ backends: [] }),
    "LoadBalancer lb has invalid arguments:\n  - haproxy.backends must list at least one API server, got []",
  ],
  [
    "LoadBalancer: both blocks",
    haproxy({}, { awsNlb: { vpcId: "vpc-0123456789abcdef0", subnetIds: [] } }),
    'LoadBalancer lb has invalid arguments:\n  - Only one of [haproxy] or [awsNlb] can be specified: kind is "haproxy", so give haproxy and remove awsNlb',
  ],
  // HaControlPlane
  [
    "HaControlPlane: an Ed25519 CA",
    plane({ ca: { ...CA, keyAlgorithm: hakube.KeyAlgorithm.Ed25519 } }),
    'HaControlPlane k8s has invalid arguments:\n  - ca.keyAlgorithm must be RSA or ECDSA: kubeadm and kube-apiserver cannot use an Ed25519 CA; make the CertificateAuthority with keyAlgorithm ECDSA_P256 or RSA_2048, got "ED25519"',
  ],
  [
    "HaControlPlane: a CA with an unknown algorithm",
    plane({ ca: { ...CA, keyAlgorithm: "EC" } }),
    'HaControlPlane k8s has invalid arguments:\n  - ca.keyAlgorithm must be one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, ED25519, got "EC"',
  ],
  [
    "HaControlPlane: a CA certificate that is no PEM",
    plane({ ca: { certPem: "ca.crt", privateKeyPem: KEY } }),
    'HaControlPlane k8s has invalid arguments:\n  - ca.certPem must be a PEM certificate ("-----BEGIN CERTIFICATE-----..."), got "ca.crt"',
  ],
  [
    "HaControlPlane: Ed25519 keys for kubeadm",
    plane({ keyAlgorithm: "ED25519" }),
    'HaControlPlane k8s has invalid arguments:\n  - keyAlgorithm must be one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096 (kubeadm and kube-apiserver take RSA or ECDSA keys), got "ED25519"',
  ],
  [
    "HaControlPlane: a master without connection",
    plane({ masters: without(3, 2, "connection") }),
    "HaControlPlane k8s has invalid arguments:\n  - masters[2].connection must be an object with at least host (how to reach the machine over SSH), got undefined",
  ],
  [
    "HaControlPlane: a master's bad hostKey",
    plane({ masters: withConnection(3, 0, conn({ hostKey: "ecdsa-sha2-nistp256" })) }),
    `HaControlPlane k8s has invalid arguments:\n  - masters[0].connection.hostKey ${HOST_KEY_MESSAGE} "ecdsa-sha2-nistp256"`,
  ],
  [
    "HaControlPlane: a worker's SSH port 0",
    plane({ workers: withConnection(4, 3, conn({ host: "10.0.0.14", port: 0 })).slice(3) }),
    "HaControlPlane k8s has invalid arguments:\n  - workers[0].connection.port must be a port number 1-65535, got 0",
  ],
  [
    "HaControlPlane: endpoint without port",
    plane({ endpoint: "10.0.0.10" }),
    'HaControlPlane k8s has invalid arguments:\n  - endpoint must be "host:port" with a DNS name, an IPv4 address or an IPv6 address in brackets, and a port 1-65535, got "10.0.0.10"',
  ],
  [
    "HaControlPlane: external etcd over http",
    plane({
      etcd: {
        topology: "external",
        endpoints: ["http://10.0.0.21:2379"],
        caCertPem: PEM,
        clientCertPem: PEM,
        clientKeyPem: KEY,
      },
    }),
    'HaControlPlane k8s has invalid arguments:\n  - etcd.endpoints[0] must be an https URL with a host and a port and nothing after them, such as "https://10.0.0.21:2379", got "http://10.0.0.21:2379"',
  ],
  [
    "HaControlPlane: external etcd without client key",
    plane({
      etcd: {
        topology: "external",
        endpoints: ["https://10.0.0.21:2379"],
        caCertPem: PEM,
        clientCertPem: PEM,
      },
    }),
    'HaControlPlane k8s has invalid arguments:\n  - etcd.clientKeyPem is required with etcd.topology "external", got undefined',
  ],
  [
    "HaControlPlane: unknown service-account key algorithm",
    plane({ serviceAccountKeyAlgorithm: "HS256" }),
    'HaControlPlane k8s has invalid arguments:\n  - serviceAccountKeyAlgorithm must be one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096 (kubeadm and kube-apiserver take RSA or ECDSA keys), got "HS256"',
  ],
];

describe("bad input: refused with the component and field named, nothing registered, no warning", () => {
  const warnings = captureWarnings();

  it(`has at least 60 cases (${cases.length})`, () => assert.ok(cases.length >= 60));
  for (const [title, build, message] of cases) {
    it(title, async () => {
      const rec = new Recorder();
      await rec.install();
      assert.throws(build, (e: Error) => {
        assert.equal(e.message, message);
        assert.ok(pulumi.InputPropertiesError.isInstance(e), "an InputPropertiesError");
        return true;
      });
      await rec.idle();
      assert.deepEqual(rec.names(), [], "nothing registered");
      assert.deepEqual(warnings.list, [], "no warning");
      assert.ok(!message.includes("CANARY"), "no key text");
    });
  }
});

describe("warnings: each fact once", () => {
  const warnings = captureWarnings();
  const shared =
    "HaControlPlane k8s: ca is also the etcd CA (etcd.caCertPem): etcd trusts every certificate the cluster CA signs (kubelets', users'), so each of them can read and write all of etcd; give the EtcdCluster a CA of its own";
  /** The shared-CA warning came, once, and no warning came twice. */
  const sharedCaWarnedOnce = () => {
    assert.deepEqual(
      warnings.list.filter((w) => w.includes("etcd CA")),
      [shared],
    );
    assert.equal(
      new Set(warnings.list).size,
      warnings.list.length,
      `a warning repeated: ${warnings.list.join("\n")}`,
    );
  };

  it("warns when the cluster CA is also the etcd CA (plain values)", async () => {
    const rec = new Recorder();
    await rec.install();
    plane({
      ca: CA,
      workers: hosts(4).slice(3),
      etcd: {
        topology: "external",
        endpoints: ["https://10.0.0.21:2379"],
        caCertPem: PEM,
        clientCertPem: PEM,
        clientKeyPem: KEY,
      },
    })();
    await rec.idle();
    sharedCaWarnedOnce();
  });

  it("warns once when the shared CA comes through outputs (an EtcdCluster signed by the cluster CA)", async () => {
    const rec = new Recorder();
    await rec.install();
    const clusterCa = new hakube.CertificateAuthority("cluster-ca", { commonName: "kubernetes" });
    const etcdCluster = new hakube.EtcdCluster("etcd", {
      members: hosts(6).slice(3),
      install: { sha256: SHA },
      ca: clusterCa,
    });
    new hakube.HaControlPlane("k8s", {
      masters: hosts(3),
      workers: hosts(7).slice(6),
      endpoint: "10.0.0.10:6443",
      kubernetesVersion: "1.33.1",
      ca: clusterCa,
      etcd: {
        topology: "external",
        endpoints: etcdCluster.clientEndpoints,
        caCertPem: etcdCluster.caCertPem,
        clientCertPem: etcdCluster.clientCertPem,
        clientKeyPem: etcdCluster.clientKeyPem,
      },
    });
    await rec.idle();
    sharedCaWarnedOnce();
  });
});
