/**
 * Every lab this repository makes, with its subnet (10.77.<index>.0/24) and name, in one place: the tests
 * and benchmarks can run one after another or side by side on one machine, and a lab left behind by one
 * (a killed run) must not take the subnet another needs. tests/unit/lab-subnets.test.ts keeps them apart.
 */
export const LAB_SUBNETS = {
  /** `npm run lab` (the main job). */
  main: 0,
  etcdTest: 5,
  etcdBench: 6,
  kubernetesTest: 8,
  /** The hosts test also tries (and must be refused) hostsTest + 1 for its lab. */
  hostsTest: 9,
  vipBench: 11,
  packagesTest: 12,
  clusterBench: 13,
  etcdDay2Test: 14,
  etcdUpgradeTest: 15,
  /** `npm run bench -- etcd-day2`: snapshots, restore and the rolling upgrade, timed. */
  etcdDay2Bench: 16,
} as const;

export const LAB_NAMES = {
  main: "lab",
  etcdTest: "t-etcd",
  etcdBench: "b-etcd",
  kubernetesTest: "t-k8s",
  hostsTest: "t-hosts",
  vipBench: "b-vip",
  packagesTest: "t-pkg",
  clusterBench: "b-cluster",
  etcdDay2Test: "t-etcd2",
  etcdUpgradeTest: "t-etcdup",
  etcdDay2Bench: "b-etcd2",
} as const satisfies Record<keyof typeof LAB_SUBNETS, string>;
