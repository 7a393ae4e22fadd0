// SFTP copies for the lab runner, following @pulumi/command's CopyToRemote: a file, a folder (path
// archive) or an AssetArchive copied to the host over one connection of ./ssh.ts.

import * as fs from "node:fs";
import * as path from "node:path";
import type { Client, SFTPWrapper, Stats } from "ssh2";
import { dial, type SshConnection } from "./ssh";
import type { PlainAsset } from "./values";

function sftpOf(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
}

const SFTP_NO_SUCH_FILE = 2;

function stat(sftp: SFTPWrapper, p: string): Promise<Stats | undefined> {
  return new Promise((resolve, reject) =>
    sftp.stat(p, (err, st) => {
      if (!err) resolve(st);
      else if ((err as Error & { code?: number }).code === SFTP_NO_SUCH_FILE) resolve(undefined);
      else reject(new Error(`stat ${p}: ${err.message}`));
    }),
  );
}

async function mkdirp(sftp: SFTPWrapper, dir: string): Promise<void> {
  if (dir === "/" || dir === "." || dir === "") return;
  const st = await stat(sftp, dir);
  if (st) {
    if (!st.isDirectory()) throw new Error(`remote path ${dir} exists but is not a directory`);
    return;
  }
  await mkdirp(sftp, path.posix.dirname(dir));
  await new Promise<void>((resolve, reject) =>
    sftp.mkdir(dir, (err) => (err ? reject(new Error(`mkdir ${dir}: ${err.message}`)) : resolve())),
  );
}

function writeRemote(sftp: SFTPWrapper, p: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.writeFile(p, data, (err) => (err ? reject(new Error(`write ${p}: ${err.message}`)) : resolve())),
  );
}

async function copyLocalPath(sftp: SFTPWrapper, local: string, dest: string): Promise<void> {
  const st = fs.statSync(local);
  if (!st.isDirectory()) {
    await writeRemote(sftp, dest, fs.readFileSync(local));
    return;
  }
  await mkdirp(sftp, dest);
  for (const entry of fs.readdirSync(local).sort()) {
    await copyLocalPath(sftp, path.join(local, entry), path.posix.join(dest, entry));
  }
}

/** Copies an asset or archive like CopyToRemote: archives are copied as they are, never unpacked. */
async function copySource(sftp: SFTPWrapper, source: PlainAsset, remotePath: string): Promise<void> {
  const destStat = await stat(sftp, remotePath);
  if ("$asset" in source) {
    if (source.$asset === "remote") throw new Error("CopyToRemote cannot copy a RemoteAsset in the lab");
    if (source.$asset === "string") {
      if (destStat?.isDirectory()) {
        throw new Error(`remote path ${remotePath} is a directory; a text asset needs a file path`);
      }
      await mkdirp(sftp, path.posix.dirname(remotePath));
      await writeRemote(sftp, remotePath, Buffer.from(source.text));
      return;
    }
    const dest = destStat?.isDirectory()
      ? path.posix.join(remotePath, path.basename(source.path))
      : remotePath;
    if (!destStat) await mkdirp(sftp, path.posix.dirname(remotePath));
    await copyLocalPath(sftp, source.path, dest);
    return;
  }
  if (source.$archive === "remote") throw new Error("CopyToRemote cannot copy a RemoteArchive in the lab");
  if (source.$archive === "file") {
    const local = source.path;
    if (fs.statSync(local).isDirectory()) {
      // As the provider: "dir" is copied into remotePath/dir, "dir/" copies its contents into remotePath.
      await mkdirp(sftp, remotePath);
      const dest = local.endsWith("/") ? remotePath : path.posix.join(remotePath, path.basename(local));
      await copyLocalPath(sftp, local, dest);
    } else {
      const dest = destStat?.isDirectory() ? path.posix.join(remotePath, path.basename(local)) : remotePath;
      if (!destStat) await mkdirp(sftp, path.posix.dirname(remotePath));
      await copyLocalPath(sftp, local, dest);
    }
    return;
  }
  // AssetArchive (a lab extension; the provider only takes path archives): each entry becomes
  // remotePath/<key>.
  await mkdirp(sftp, remotePath);
  for (const [key, entry] of Object.entries(source.assets)) {
    await copySource(sftp, entry, path.posix.join(remotePath, key));
  }
}

export async function copyToRemote(
  conn: SshConnection,
  source: PlainAsset,
  remotePath: string,
  warn: (line: string) => void,
): Promise<number> {
  const started = Date.now();
  const client = await dial(conn, warn);
  try {
    const sftp = await sftpOf(client);
    try {
      await copySource(sftp, source, remotePath);
    } finally {
      sftp.end();
    }
  } finally {
    client.end();
  }
  return Date.now() - started;
}
