// The lab runner against a real sshd on 127.0.0.1 (started and stopped by these tests).
// Run: npx mocha --require tsx/cjs --timeout 120000 tests/unit/lab-runner.test.ts

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import {
  destroy,
  type ProviderDelegate,
  readState,
  type RunOptions,
  type RunSummary,
  up,
} from "../../lab/runner";
import { startSshd, strayPublicKey, type TestSshd } from "../fixtures/runner-sshd";

/** A resource of any type (CustomResource itself is abstract). */
class AnyResource extends pulumi.CustomResource {
  declare readonly result: pulumi.Output<string>;
  constructor(type: string, name: string, props: pulumi.Inputs = {}) {
    super(type, name, props);
  }
}

describe("lab runner", function () {
  this.timeout(60_000);
  let sshd: TestSshd;
  let work: string;
  let n = 0;

  before(async () => {
    sshd = await startSshd(["AcceptEnv LAB_* PULUMI_COMMAND_*"]);
  });
  after(async () => {
    await sshd?.stop();
  });
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), `lab-runner-${++n}-`));
  });
  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  const connection = (extra: Partial<command.types.input.remote.ConnectionArgs> = {}) => ({
    host: "127.0.0.1",
    port: sshd.port,
    user: "root",
    privateKey: sshd.privateKey,
    dialErrorLimit: 2,
    ...extra,
  });

  /** Options with a fresh state path and a captured log. */
  const options = (): RunOptions & { lines: string[] } => {
    const lines: string[] = [];
    return { statePath: path.join(work, "state", "lab.json"), log: (l) => lines.push(l), lines };
  };

  const file = (name: string): string => fs.readFileSync(path.join(work, name), "utf8");
  const lines = (name: string): string[] => file(name).trim().split("\n");

  /** Custom resources in a summary list (the root stack is a component and appears too). */
  const only = (list: string[]): string[] => list.filter((x) => !x.startsWith("hakube-lab-")).sort();

  it("runs create over SSH, then runs nothing when the program is unchanged", async () => {
    const opts = options();
    const program = () => {
      const c = new command.remote.Command("marker", {
        connection: connection(),
        create: `echo created >> ${work}/marker; echo hello`,
      });
      return { out: c.stdout };
    };
    const first = await up(program, opts);
    assert.deepEqual(only(first.created), ["marker"]);
    assert.equal(first.commandsRun, 1);
    assert.equal(first.outputs.out, "hello");
    assert.deepEqual(lines("marker"), ["created"]);
    assert.ok(opts.lines.some((l) => l === "+ create marker (command:remote:Command)"));
    assert.ok(opts.lines.some((l) => /marker: ran on root@127\.0\.0\.1:\d+ in [\d.]+s/.test(l)));

    const second = await up(program, opts);
    assert.equal(second.commandsRun, 0);
    assert.deepEqual(
      [second.created, second.updated, second.replaced, second.deleted],
      [[], [], [], []],
      JSON.stringify(second),
    );
    assert.deepEqual(only(second.unchanged), ["marker"]);
    assert.equal(second.outputs.out, "hello");
    assert.deepEqual(lines("marker"), ["created"]);
  });

  it("re-runs create when create changes, runs update when set (with the previous stdout in env)", async () => {
    const opts = options();
    const program = (create: string, update?: string) => () => {
      const c = new command.remote.Command("c", { connection: connection(), create, update });
      return { out: c.stdout };
    };
    await up(program(`echo v1 >> ${work}/log; echo one`), opts);
    const second = await up(program(`echo v2 >> ${work}/log; echo two`), opts);
    assert.deepEqual(second.updated, ["c"]);
    assert.deepEqual(lines("log"), ["v1", "v2"]);
    const third = await up(
      program(
        `echo v2 >> ${work}/log; echo two`,
        `echo "update after $PULUMI_COMMAND_STDOUT" >> ${work}/log`,
      ),
      opts,
    );
    assert.deepEqual(third.updated, ["c"]);
    assert.equal(third.commandsRun, 1);
    assert.deepEqual(lines("log"), ["v1", "v2", "update after two"]);
  });

  it("replaces on a triggers change: new create first, then the old delete", async () => {
    const opts = options();
    const program = (v: number) => () => {
      new command.remote.Command("t", {
        connection: connection(),
        create: `echo create ${v} >> ${work}/log`,
        delete: `echo delete ${v} >> ${work}/log`,
        triggers: [v],
      });
    };
    await up(program(1), opts);
    const second = await up(program(2), opts);
    assert.deepEqual(second.replaced, ["t"]);
    assert.deepEqual(lines("log"), ["create 1", "create 2", "delete 1"]);
    assert.ok(opts.lines.some((l) => l.startsWith("+- replace t (command:remote:Command) [")));
    const state = readState(opts.statePath)!;
    assert.equal(Object.keys(state.resources).filter((k) => k.includes("#replaced")).length, 0);
  });

  it("deletes removed resources, dependents first (reverse creation order)", async () => {
    const opts = options();
    const program = (count: number) => () => {
      let prev: command.remote.Command | undefined;
      for (let i = 1; i <= count; i++) {
        prev = new command.remote.Command(`r${i}`, {
          connection: connection(),
          create: prev ? pulumi.interpolate`echo r${i} after ${prev.stdout}` : `echo r${i}`,
          delete: `echo delete r${i} >> ${work}/deletes`,
        });
      }
    };
    await up(program(3), opts);
    const dropOne = await up(program(2), opts);
    assert.deepEqual(dropOne.deleted, ["r3"]);
    assert.deepEqual(lines("deletes"), ["delete r3"]);
    await up(program(4), opts);
    const dropAll = await up(() => undefined, opts);
    assert.deepEqual(dropAll.deleted, ["r4", "r3", "r2", "r1"]);
    assert.deepEqual(lines("deletes"), ["delete r3", "delete r4", "delete r3", "delete r2", "delete r1"]);
  });

  it("writes stdin to the command without logging it; echoed secret stdin is redacted", async () => {
    const opts = options();
    const payload = "stdin-payload-4711";
    const summary = await up(() => {
      const quiet = new command.remote.Command("quiet", {
        connection: connection(),
        create: `cat > ${work}/stdin.txt; echo done`,
        stdin: payload,
      });
      const echo = new command.remote.Command("echo", {
        connection: connection(),
        create: "cat",
        stdin: pulumi.secret("secret-payload-0815"),
      });
      return { quiet: quiet.stdout, echo: echo.stdout };
    }, opts);
    assert.equal(file("stdin.txt"), payload);
    assert.equal(summary.outputs.quiet, "done");
    assert.equal(summary.outputs.echo, "secret-payload-0815");
    const log = opts.lines.join("\n");
    assert.ok(!log.includes(payload), log);
    assert.ok(!log.includes("secret-payload-0815"), log);
    assert.ok(log.includes("echo | [secret]"), log);
  });

  it("keeps secret inputs secret in outputs, also when unchanged", async () => {
    const opts = options();
    const seen: boolean[][] = [];
    const program = async () => {
      const c = new command.remote.Command("s", {
        connection: connection(),
        create: "echo out",
        stdin: pulumi.secret("classified"),
      });
      seen.push(
        await Promise.all([
          pulumi.isSecret(c.stdin),
          pulumi.isSecret(c.connection),
          pulumi.isSecret(c.stdout),
        ]),
      );
    };
    await up(program, opts);
    const again = await up(program, opts);
    assert.equal(again.commandsRun, 0);
    assert.deepEqual(seen, [
      [true, true, false],
      [true, true, false],
    ]);
    assert.equal(fs.statSync(opts.statePath).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(opts.statePath)).mode & 0o777, 0o700);
    const record = Object.values(readState(opts.statePath)!.resources).find((r) => r.name === "s")!;
    assert.equal(record.inputs.stdin, "classified");
    assert.deepEqual(record.secretOutputs.sort(), ["connection", "stdin"]);
  });

  it("checks hostKey: a wrong key fails naming the host, the right one works", async () => {
    const wrong = options();
    const started = Date.now();
    await assert.rejects(
      up(() => {
        new command.remote.Command("pinned", {
          connection: connection({ hostKey: strayPublicKey(work) }),
          create: "true",
        });
      }, wrong),
      (err: Error) =>
        /host key verification failed for 127\.0\.0\.1/.test(err.message) && /pinned/.test(err.message),
    );
    assert.ok(Date.now() - started < 5000, "a host key mismatch is not retried");
    const right = await up(() => {
      new command.remote.Command("pinned", {
        connection: connection({ hostKey: sshd.hostKey }),
        create: "true",
      });
    }, options());
    assert.deepEqual(only(right.created), ["pinned"]);
  });

  it("fails up() with the exit code and stderr of a failing command, or says output was suppressed", async () => {
    await assert.rejects(
      up(() => {
        const bad = new command.remote.Command("bad", {
          connection: connection(),
          create: "echo some-progress; echo boom-detail >&2; exit 7",
        });
        // A dependent that can never be registered must not make up() hang.
        new command.remote.Command("after", { connection: connection(), create: bad.stdout });
      }, options()),
      (err: Error) =>
        /bad/.test(err.message) && /exit code 7/.test(err.message) && /boom-detail/.test(err.message),
    );
    await assert.rejects(
      up(() => {
        new command.remote.Command("hushed", {
          connection: connection(),
          create: "echo hidden-detail >&2; exit 3",
          logging: "none",
        });
      }, options()),
      (err: Error) =>
        /exit code 3/.test(err.message) &&
        /suppressed/.test(err.message) &&
        !err.message.includes("hidden-detail"),
    );
  });

  it("fails fast on a resource type it cannot carry out, and on invokes", async () => {
    const withDeadline = <T>(p: Promise<T>) =>
      Promise.race([
        p,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("up() hung")), 5000)),
      ]);
    await assert.rejects(
      withDeadline(
        up(() => {
          const vm = new AnyResource("aws:ec2/instance:Instance", "vm");
          const c = new command.remote.Command("uses-vm", {
            connection: connection(),
            create: vm.id.apply(String),
          });
          return { out: c.stdout };
        }, options()),
      ),
      /the lab runner cannot carry out aws:ec2\/instance:Instance \(resource vm\): only command, tls and random/,
    );
    await assert.rejects(
      withDeadline(
        up(async () => {
          await pulumi.runtime.invoke("aws:index/getRegion:getRegion", {});
        }, options()),
      ),
      /cannot carry out aws:index\/getRegion:getRegion/,
    );
  });

  it("sends environment as env requests: accepted ones arrive, refused ones fail", async () => {
    const ok = await up(() => {
      const c = new command.remote.Command("env", {
        connection: connection(),
        create: 'echo "greeting=$LAB_GREETING"',
        environment: { LAB_GREETING: "hi there" },
      });
      return { out: c.stdout };
    }, options());
    assert.equal(ok.outputs.out, "greeting=hi there");
    await assert.rejects(
      up(() => {
        new command.remote.Command("refused", {
          connection: connection(),
          create: "true",
          environment: { NOT_ACCEPTED: "x" },
        });
      }, options()),
      /could not set environment variable\(s\) NOT_ACCEPTED on 127\.0\.0\.1/,
    );
  });

  it("runs independent commands in parallel and reaches a host through a proxy", async () => {
    // Each command notes when it started and ended (on the server's clock, so slow SSH handshakes do
    // not matter, as long as they differ by less than the 3 s each command sleeps): run in parallel,
    // every one starts before any one ends.
    const summary = await up(() => {
      for (const name of ["p1", "p2", "p3"]) {
        new command.remote.Command(name, {
          connection: connection(),
          create: `echo "start $(date +%s%N)" >> ${work}/${name}; sleep 3; echo "end $(date +%s%N)" >> ${work}/${name}`,
        });
      }
      const hop = new command.remote.Command("hop", {
        connection: connection({ proxy: connection() }),
        create: "echo via-proxy",
      });
      return { hop: hop.stdout };
    }, options());
    const times = ["p1", "p2", "p3"].map((name) =>
      Object.fromEntries(
        lines(name)
          .map((l) => l.split(" "))
          .map(([k, v]) => [k, BigInt(v)]),
      ),
    );
    const lastStart = times.reduce((m, t) => (t.start > m ? t.start : m), 0n);
    const firstEnd = times.reduce((m, t) => (t.end < m ? t.end : m), times[0].end);
    assert.ok(
      lastStart < firstEnd,
      `not in parallel: ${JSON.stringify(times, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`,
    );
    assert.equal(summary.outputs.hop, "via-proxy");
  });

  it("runs command:local:Command with dir, environment and stdin", async () => {
    const opts = options();
    const summary = await up(() => {
      const c = new command.local.Command("local", {
        create: 'read line; echo "$FOO $line" > out.txt; pwd',
        dir: work,
        environment: { FOO: "bar" },
        stdin: "from-stdin",
      });
      return { out: c.stdout };
    }, opts);
    assert.equal(file("out.txt"), "bar from-stdin\n");
    assert.equal(summary.outputs.out, fs.realpathSync(work));
  });

  it("copies a StringAsset with CopyToRemote, and only again when the content changes", async () => {
    const opts = options();
    const program = (text: string) => () => {
      new command.remote.CopyToRemote("copy", {
        connection: connection(),
        source: new pulumi.asset.StringAsset(text),
        remotePath: `${work}/sub/dir/file.txt`,
      });
    };
    const first = await up(program("hello file\n"), opts);
    assert.equal(first.commandsRun, 1);
    assert.equal(file("sub/dir/file.txt"), "hello file\n");
    assert.equal((await up(program("hello file\n"), opts)).commandsRun, 0);
    const changed = await up(program("changed\n"), opts);
    assert.deepEqual(changed.updated, ["copy"]);
    assert.equal(file("sub/dir/file.txt"), "changed\n");
  });

  it("copies a FileAsset into an existing directory and a FileArchive directory recursively", async () => {
    const src = path.join(work, "src");
    fs.mkdirSync(path.join(src, "tree", "nested"), { recursive: true });
    fs.writeFileSync(path.join(src, "single.conf"), "single\n");
    fs.writeFileSync(path.join(src, "tree", "nested", "deep.txt"), "deep\n");
    fs.mkdirSync(path.join(work, "dest"));
    const summary = await up(() => {
      new command.remote.CopyToRemote("file", {
        connection: connection(),
        source: new pulumi.asset.FileAsset(path.join(src, "single.conf")),
        remotePath: `${work}/dest`,
      });
      new command.remote.CopyToRemote("tree", {
        connection: connection(),
        source: new pulumi.asset.FileArchive(path.join(src, "tree")),
        remotePath: `${work}/dest`,
      });
    }, options());
    assert.equal(summary.commandsRun, 2);
    assert.equal(file("dest/single.conf"), "single\n");
    assert.equal(file("dest/tree/nested/deep.txt"), "deep\n");
  });

  it("delegates random/tls types to the providers, replaces them on change, and destroys in reverse order", async () => {
    let made = 0;
    const stub: ProviderDelegate = {
      handles: (type) => type === "random:index/randomPassword:RandomPassword",
      create: async (_type, inputs) => ({
        id: `pw${++made}`,
        outputs: { result: `pw-${inputs.length}-${made}` },
      }),
      secretOutputs: () => ["result"],
    };
    const opts = { ...options(), providers: stub };
    let secret: boolean | undefined;
    const program = (length: number) => async () => {
      const pw = new AnyResource("random:index/randomPassword:RandomPassword", "pw", {
        length,
        result: undefined,
      });
      secret = await pulumi.isSecret(pw.result);
      new command.remote.Command("use-pw", {
        connection: connection(),
        create: pulumi.interpolate`echo ${pw.result}`,
        delete: `echo delete use-pw >> ${work}/destroy`,
      });
    };
    const first: RunSummary = await up(program(8), opts);
    assert.equal(secret, true);
    assert.deepEqual(only(first.created), ["pw", "use-pw"]);
    assert.ok(!opts.lines.join("\n").includes("pw-8-1"), "a secret provider output is redacted from the log");
    const second = await up(program(9), opts);
    assert.deepEqual(second.replaced, ["pw"]);
    assert.deepEqual(second.updated, ["use-pw"]);
    const gone = await destroy(opts);
    assert.deepEqual(only(gone.deleted), ["pw", "use-pw"]);
    assert.equal(gone.deleted[0], "use-pw");
    assert.deepEqual(lines("destroy"), ["delete use-pw"]);
    assert.deepEqual(readState(opts.statePath)!.resources, {});
  });

  it("loads lab/providers by default for real tls and random resources", async () => {
    const opts = options();
    const secrets: boolean[] = [];
    const program = async () => {
      const key = new tls.PrivateKey("key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
      const pw = new random.RandomPassword("pw", { length: 20, special: false });
      const c = new command.remote.Command("use", {
        connection: connection(),
        create: pulumi.interpolate`echo ${pw.result} | wc -c; echo '${key.publicKeyOpenssh}' | head -1 | cut -d' ' -f1`,
      });
      secrets.push(await pulumi.isSecret(key.privateKeyPem), await pulumi.isSecret(pw.result));
      return { out: c.stdout };
    };
    const first = await up(program, opts);
    assert.deepEqual(only(first.created), ["key", "pw", "use"]);
    assert.equal(first.outputs.out, "21\necdsa-sha2-nistp256");
    const second = await up(program, opts);
    assert.equal(second.commandsRun, 0);
    assert.deepEqual(only(second.unchanged), ["key", "pw", "use"]);
    assert.deepEqual(secrets, [true, true, true, true]);
  });
});
