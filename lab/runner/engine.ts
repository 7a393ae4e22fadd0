// The lab runner's small deployment engine: for each resource the program registers, compare with the state and
// create, update, replace or leave it; after the program, delete what it no longer declares. Registrations
// arrive concurrently (Pulumi's runtime registers independent resources in parallel and a dependent only after
// its dependencies), so operations run in parallel and the state file is written after each one.
//
// On the first error no new operation starts: operations already running finish (and are recorded), then the
// run fails with that first error. Deletes never start after an error.

import { isKnownFailure, noteFailure } from "./rejections";
import { type Handler, handlerFor, type OpContext, type ProviderDelegate } from "./resources";
import { recordKey, type ResourceRecord, type StateStore } from "./state";
import {
  changedKeys,
  isSecretWrapper,
  type PropertyMap,
  Redactor,
  resolveInputs,
  stringsIn,
  wrapSecret,
  isRecord,
} from "./values";

/** A resource registration, as the runtime sends it (see runtime.ts). */
export interface Registration {
  urn: string;
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  /** Inputs as deserialized by Pulumi: secret wrappers and asset objects included. */
  rawInputs: PropertyMap;
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
  replaceOnChanges: string[];
  ignoreChanges: string[];
  retainOnDelete: boolean;
}

export interface RegistrationResult {
  id: string;
  /** Outputs for the runtime: secret outputs wrapped, inputs as the program gave them. */
  outputs: PropertyMap;
}

export interface Summary {
  created: string[];
  updated: string[];
  replaced: string[];
  deleted: string[];
  unchanged: string[];
  commandsRun: number;
}

/** A run that did nothing yet. */
export function emptySummary(): Summary {
  return { created: [], updated: [], replaced: [], deleted: [], unchanged: [], commandsRun: 0 };
}

export class Engine {
  readonly summary: Summary = emptySummary();
  /** Resolves with the first error; never rejects. */
  readonly failed: Promise<Error>;
  private signalFailed!: (err: Error) => void;
  private firstError?: Error;
  private readonly seen = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly redactor = new Redactor();
  private delegate?: Promise<ProviderDelegate>;

  constructor(
    private readonly store: StateStore,
    private readonly log: (line: string) => void,
    private readonly loadProviders: () => Promise<ProviderDelegate>,
  ) {
    this.failed = new Promise((resolve) => (this.signalFailed = resolve));
  }

  get error(): Error | undefined {
    return this.firstError;
  }

  /** Records the first error (later ones are consequences or concurrent failures and are only logged). */
  fail(err: unknown): Error {
    const e = err instanceof Error ? err : new Error(String(err));
    const derived = isKnownFailure(e.message);
    noteFailure(e.message);
    if (!this.firstError) {
      this.firstError = e;
      this.signalFailed(e);
    } else if (e !== this.firstError && !derived) {
      this.log(`! also failed: ${this.redact(e.message.split("\n")[0])}`);
    }
    return e;
  }

  redact(text: string): string {
    return this.redactor.redact(text);
  }

  /** Waits until no operation is running. */
  async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  register(reg: Registration): Promise<RegistrationResult> {
    if (this.firstError) {
      const skipped = `${reg.name} (${reg.type}) was not carried out: an earlier resource failed`;
      noteFailure(skipped);
      return Promise.reject(new Error(skipped));
    }
    if (this.seen.has(reg.urn)) {
      return Promise.reject(this.fail(new Error(`duplicate resource URN ${reg.urn}`)));
    }
    this.seen.add(reg.urn);
    const op = this.carryOut(reg).catch((err: unknown) => {
      throw this.fail(err);
    });
    this.track(op);
    return op;
  }

  private track(p: Promise<unknown>): void {
    const tracked: Promise<unknown> = p.then(
      () => this.inflight.delete(tracked),
      () => this.inflight.delete(tracked),
    );
    this.inflight.add(tracked);
  }

  private providers(): Promise<ProviderDelegate> {
    this.delegate ??= this.loadProviders();
    return this.delegate;
  }

  private context(name: string, type: string): OpContext {
    return {
      name,
      type,
      output: (line) => this.log(`    ${name} | ${this.redact(line)}`),
      info: (line) => this.log(`  ${name}: ${this.redact(line)}`),
      warn: (line) => this.log(`  warning: ${name}: ${this.redact(line)}`),
      redact: (text) => this.redact(text),
      countCommand: () => this.summary.commandsRun++,
    };
  }

  private async carryOut(reg: Registration): Promise<RegistrationResult> {
    const { plain, secretStrings } = await resolveInputs(reg.rawInputs);
    this.redactor.add(secretStrings);
    const old = this.store.get(reg.urn);
    const base = {
      urn: reg.urn,
      type: reg.type,
      name: reg.name,
      parent: reg.parent,
      custom: reg.custom,
      deleteBeforeReplace: reg.deleteBeforeReplace || undefined,
      retainOnDelete: reg.retainOnDelete || undefined,
    };

    if (!reg.custom) {
      // Component resources (and the root stack) are recorded, never carried out.
      this.store.put({
        ...base,
        id: "",
        inputs: plain,
        outputs: plain,
        secretOutputs: [],
        order: this.store.nextOrder(),
        status: "ok",
      });
      (old ? this.summary.unchanged : this.summary.created).push(reg.name);
      if (!old) this.log(`+ create ${reg.name} (${reg.type})`);
      return { id: "", outputs: reg.rawInputs };
    }

    const handler = await handlerFor(reg.type, reg.name, () => this.providers());
    const secretKeys = [...new Set([...handler.secretOutputs, ...reg.additionalSecretOutputs])];
    for (const key of ignoredKeys(reg)) if (old && key in old.inputs) plain[key] = old.inputs[key];

    const finish = (id: string, outputs: PropertyMap): RegistrationResult => {
      const response = buildResponse(reg.rawInputs, outputs, secretKeys);
      // `connection` is secret as a whole, but only its credentials are sensitive (resolveInputs already
      // collected those); redacting host and user would hide where commands ran.
      for (const key of secretKeys) {
        if (key in outputs && key !== "connection") this.redactor.add(stringsIn(outputs[key]));
      }
      this.store.put({
        ...base,
        id,
        inputs: plain,
        outputs,
        secretOutputs: Object.keys(response).filter((k) => containsSecret(response[k])),
        order: this.store.nextOrder(),
        status: "ok",
      });
      return { id, outputs: response };
    };
    const failed = (
      operation: "create" | "update",
      id: string,
      previous: PropertyMap,
      err: unknown,
    ): never => {
      this.store.put({
        ...base,
        id,
        inputs: plain,
        outputs: previous,
        secretOutputs: [],
        order: this.store.nextOrder(),
        status: "failed",
        failedOperation: operation,
        error: this.redact(err instanceof Error ? err.message : String(err)),
      });
      throw err;
    };
    const ctx = this.context(reg.name, reg.type);
    const label = `${reg.name} (${reg.type})`;
    const named = (verb: string, err: unknown): Error =>
      new Error(`${verb} ${label}: ${err instanceof Error ? err.message : String(err)}`);

    let operation: "create" | "update" | "replace" | "same";
    let changed: string[] = [];
    if (!old) {
      operation = "create";
    } else if (old.status === "failed") {
      operation = old.failedOperation === "update" && handler.update ? "update" : "create";
    } else {
      changed = changedKeys(old.inputs, plain);
      if (changed.length === 0) operation = "same";
      else if (!handler.update || replaceTriggered(changed, reg.replaceOnChanges)) operation = "replace";
      else operation = "update";
    }
    const what = changed.length > 0 ? ` [${changed.join(", ")}]` : "";

    switch (operation) {
      case "same": {
        this.summary.unchanged.push(reg.name);
        return finish(old!.id, old!.outputs);
      }
      case "create": {
        this.log(`+ create ${label}${old ? " (retrying the failed create)" : ""}`);
        let created: { id: string; outputs: PropertyMap };
        try {
          created = await handler.create(ctx, plain);
        } catch (err) {
          return failed("create", "", {}, named("create", err));
        }
        this.summary.created.push(reg.name);
        return finish(created.id, created.outputs);
      }
      case "update": {
        this.log(`~ update ${label}${what}`);
        let outputs: PropertyMap;
        try {
          outputs = await handler.update!(ctx, old!, plain);
        } catch (err) {
          return failed("update", old!.id, old!.outputs, named("update", err));
        }
        this.summary.updated.push(reg.name);
        return finish(old!.id, outputs);
      }
      case "replace":
        return this.replace(reg, handler, old!, plain, finish, failed, ctx, what, named);
    }
  }

  private async replace(
    reg: Registration,
    handler: Handler,
    old: ResourceRecord,
    plain: PropertyMap,
    finish: (id: string, outputs: PropertyMap) => RegistrationResult,
    failed: (op: "create", id: string, prev: PropertyMap, err: unknown) => never,
    ctx: OpContext,
    what: string,
    named: (verb: string, err: unknown) => Error,
  ): Promise<RegistrationResult> {
    const label = `${reg.name} (${reg.type})`;
    if (reg.deleteBeforeReplace) {
      this.log(`+- replace ${label}${what} (delete before replace)`);
      try {
        await handler.delete?.(ctx, old);
      } catch (err) {
        throw named("delete (replace)", err);
      }
      this.store.remove(recordKey(old));
      let created: { id: string; outputs: PropertyMap };
      try {
        created = await handler.create(ctx, plain);
      } catch (err) {
        return failed("create", "", {}, named("create (replace)", err));
      }
      this.summary.replaced.push(reg.name);
      return finish(created.id, created.outputs);
    }
    this.log(`+- replace ${label}${what}`);
    let created: { id: string; outputs: PropertyMap };
    try {
      created = await handler.create(ctx, plain);
    } catch (err) {
      // The old resource stays as it was; the next run tries the replacement again.
      throw named("create (replace)", err);
    }
    const result = finish(created.id, created.outputs);
    const pending: ResourceRecord = { ...old, pendingDelete: true };
    this.store.put(this.store.get(reg.urn)!, pending);
    try {
      await handler.delete?.(ctx, old);
    } catch (err) {
      throw named("delete (replaced)", err);
    }
    this.store.remove(recordKey(pending));
    this.summary.replaced.push(reg.name);
    return result;
  }

  /** Deletes, in reverse order, what is in the state but was not registered by this run. */
  async deleteUnregistered(): Promise<void> {
    const gone = this.store
      .all()
      .filter((r) => r.pendingDelete || !this.seen.has(r.urn))
      .sort((a, b) => b.order - a.order);
    for (const record of gone) await this.deleteRecord(record);
  }

  /** Deletes everything in the state, in reverse order. */
  async deleteAll(): Promise<void> {
    for (const record of this.store.all().sort((a, b) => b.order - a.order)) await this.deleteRecord(record);
  }

  private async deleteRecord(record: ResourceRecord): Promise<void> {
    const label = `${record.name} (${record.type})`;
    this.log(`- delete ${label}${record.pendingDelete ? " (replaced earlier)" : ""}`);
    if (record.custom && !record.retainOnDelete) {
      try {
        const handler = await handlerFor(record.type, record.name, () => this.providers());
        await handler.delete?.(this.context(record.name, record.type), record);
      } catch (err) {
        throw this.fail(new Error(`delete ${label}: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
    this.store.remove(recordKey(record));
    this.summary.deleted.push(record.name);
  }
}

function topLevel(path: string): string {
  return path.split(/[.[]/)[0];
}

function ignoredKeys(reg: Registration): string[] {
  return reg.ignoreChanges.map(topLevel).filter((k) => k !== "");
}

function replaceTriggered(changed: string[], replaceOnChanges: string[]): boolean {
  const keys = replaceOnChanges.map(topLevel);
  return keys.includes("*") || changed.some((k) => keys.includes(k));
}

/**
 * Outputs as the program sees them: stored outputs, with the program's own input values for input keys (these
 * keep Pulumi's secret wrappers and asset objects), and the provider's secret outputs wrapped as secrets.
 */
function buildResponse(rawInputs: PropertyMap, outputs: PropertyMap, secretKeys: string[]): PropertyMap {
  const response: PropertyMap = { ...outputs };
  for (const [k, v] of Object.entries(rawInputs)) if (v !== undefined) response[k] = v;
  for (const k of secretKeys) if (response[k] !== undefined) response[k] = wrapSecret(response[k]);
  return response;
}

function containsSecret(v: unknown): boolean {
  if (isSecretWrapper(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (isRecord(v)) return Object.values(v).some(containsSecret);
  return false;
}
