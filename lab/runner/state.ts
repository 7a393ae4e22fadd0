// The lab runner's state file: what it has carried out, so that the next run knows what to create, update,
// replace, delete or leave alone. It holds secrets (private keys, passwords) in plain text, so the file is
// written with mode 0600 in a directory created 0700, atomically (temporary file, fsync, rename) after every
// resource operation: a crash mid-run leaves a state that tells the truth about what was done.

import * as fs from "node:fs";
import * as path from "node:path";
import type { PropertyMap } from "./values";

export const STATE_VERSION = 1;

export type ResourceStatus =
  /** The last operation succeeded. */
  | "ok"
  /** The last operation failed: the next run repeats it (see `failedOperation`). */
  | "failed";

export interface ResourceRecord {
  /** Key: `urn:pulumi:<stack>::<project>::<parent types $-joined>$<type>::<name>`. */
  urn: string;
  type: string;
  name: string;
  /** URN of the parent resource ("" for none). */
  parent: string;
  /** false for component resources (recorded, never carried out). */
  custom: boolean;
  id: string;
  /** Inputs with secrets unwrapped and assets in their plain form. */
  inputs: PropertyMap;
  /** Outputs (plain), including the inputs the provider echoes. */
  outputs: PropertyMap;
  /** Output keys returned to the program as secrets. */
  secretOutputs: string[];
  /** Completion order in the run that last registered this resource; deletes run in reverse order. */
  order: number;
  status: ResourceStatus;
  failedOperation?: "create" | "update";
  /** The error of the failed operation, for the reader of the state file. */
  error?: string;
  deleteBeforeReplace?: boolean;
  retainOnDelete?: boolean;
  /** The old half of a create-before-delete replacement whose delete has not succeeded yet. */
  pendingDelete?: boolean;
}

/** Key of a record in {@link State.resources}: its URN, or URN#replaced:<id> for a pending delete. */
export function recordKey(r: ResourceRecord): string {
  return r.pendingDelete ? `${r.urn}#replaced:${r.id}` : r.urn;
}

export interface State {
  version: typeof STATE_VERSION;
  project: string;
  stack: string;
  nextOrder: number;
  updatedAt: string;
  resources: Record<string, ResourceRecord>;
  /** Root stack outputs of the last successful `up`. */
  outputs: PropertyMap;
}

/** Reads the state file; undefined if it does not exist. Throws on a malformed file. */
export function readState(statePath: string): State | undefined {
  let text: string;
  try {
    text = fs.readFileSync(statePath, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const state = JSON.parse(text) as State;
  if (state.version !== STATE_VERSION || typeof state.resources !== "object" || state.resources === null) {
    throw new Error(`${statePath} is not a lab runner state file (version ${STATE_VERSION})`);
  }
  return state;
}

/** In-memory state plus its file; every change is written through synchronously (so writes never interleave). */
export class StateStore {
  private readonly state: State;

  constructor(
    readonly statePath: string,
    project: string,
    stack: string,
  ) {
    const existing = readState(statePath);
    if (existing && (existing.project !== project || existing.stack !== stack)) {
      throw new Error(
        `${statePath} holds the state of ${existing.project}/${existing.stack}, not ${project}/${stack}`,
      );
    }
    this.state = existing ?? {
      version: STATE_VERSION,
      project,
      stack,
      nextOrder: 1,
      updatedAt: new Date().toISOString(),
      resources: {},
      outputs: {},
    };
  }

  get(urn: string): ResourceRecord | undefined {
    return this.state.resources[urn];
  }

  all(): ResourceRecord[] {
    return Object.values(this.state.resources);
  }

  nextOrder(): number {
    return this.state.nextOrder++;
  }

  /** Stores records (one atomic write for all of them). */
  put(...records: ResourceRecord[]): void {
    for (const r of records) this.state.resources[recordKey(r)] = r;
    this.write();
  }

  remove(key: string): void {
    delete this.state.resources[key];
    this.write();
  }

  setOutputs(outputs: PropertyMap): void {
    this.state.outputs = outputs;
    this.write();
  }

  /** Writes the file atomically: temporary file (0600) in the same directory, fsync, rename. */
  write(): void {
    this.state.updatedAt = new Date().toISOString();
    const dir = path.dirname(this.statePath);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, `.${path.basename(this.statePath)}.${process.pid}.tmp`);
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
      fs.fchmodSync(fd, 0o600);
      fs.writeSync(fd, JSON.stringify(this.state, null, 2) + "\n");
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.statePath);
  }
}
