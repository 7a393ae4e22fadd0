// The lab runner: the lab's executor for hakube Pulumi programs.
//
// It is NOT a replacement for `pulumi up`. The Pulumi CLI and its provider plugins cannot be installed in the
// lab, so the runner runs the program in-process on Pulumi's own Node.js runtime in mock mode
// (`pulumi.runtime.setMocks(mocks, project, stack, preview=false)`) and carries out the resources itself:
// command:remote:Command and CopyToRemote over real SSH (ssh2), command:local:Command with /bin/sh, tls:* and
// random:* through lab/providers, following @pulumi/command 1.2.1's semantics as closely as the lab needs.
// Its state is a JSON file of its own, not a Pulumi checkpoint; there is no preview, refresh, import, protect,
// aliases, or resource types other than those above (they fail loudly).

import * as pulumi from "@pulumi/pulumi";
import * as labProviders from "../providers";
import { emptySummary, Engine, type Summary } from "./engine";
import type { ProviderDelegate } from "./resources";
import { type Program, runProgram } from "./runtime";
import { readState, StateStore } from "./state";
import { seconds } from "./output";

export { readState } from "./state";
export type { State, ResourceRecord } from "./state";
export type { ProviderDelegate } from "./resources";
export type { Program } from "./runtime";

export interface RunOptions {
  /** The state file (created 0600, its directory 0700). */
  statePath: string;
  /** Defaults to the project in the state file, else "hakube-lab". */
  project?: string;
  /** Defaults to the stack in the state file, else "lab". */
  stack?: string;
  /** Progress lines; never contains stdin or known secret values. */
  log?: (line: string) => void;
  /** tls:* and random:* implementation; defaults to lab/providers (tests may pass a stub). */
  providers?: ProviderDelegate;
}

/** What a run did (the engine's {@link Summary}: commandsRun counts remote and local commands plus SFTP copies) and the outputs. */
export interface RunSummary extends Summary {
  /** Root stack outputs (the program's return value); empty for destroy. */
  outputs: Record<string, unknown>;
}

const DEFAULT_PROJECT = "hakube-lab";
const DEFAULT_STACK = "lab";

/** The tls:* and random:* implementation: opts.providers, else lab/providers. */
async function loadProviders(opts: RunOptions): Promise<ProviderDelegate> {
  return opts.providers ?? labProviders;
}

function open(opts: RunOptions): { store: StateStore; engine: Engine; project: string; stack: string } {
  const existing = readState(opts.statePath);
  const project = opts.project ?? existing?.project ?? DEFAULT_PROJECT;
  const stack = opts.stack ?? existing?.stack ?? DEFAULT_STACK;
  const store = new StateStore(opts.statePath, project, stack);
  const engine = new Engine(store, opts.log ?? (() => undefined), () => loadProviders(opts));
  return { store, engine, project, stack };
}

function report(
  summary: Summary,
  started: number,
  log: (line: string) => void,
  outputs: Record<string, unknown>,
): RunSummary {
  log(`= ${summary.unchanged.length} unchanged`);
  log(
    `done in ${seconds(Date.now() - started)}: ${summary.created.length} created, ${summary.updated.length} updated, ` +
      `${summary.replaced.length} replaced, ${summary.deleted.length} deleted, ${summary.unchanged.length} unchanged, ` +
      `${summary.commandsRun} command(s) run`,
  );
  return { ...summary, outputs };
}

/**
 * Runs the program and carries out its resources: creates what is new, updates or replaces what changed, then
 * deletes (in reverse creation order) what the program no longer declares. Rejects with the first error, after
 * the operations already running have finished and been recorded in the state.
 */
export async function up(program: Program, opts: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const { store, engine, project, stack } = open(opts);
  log(`up ${project}/${stack} (state ${opts.statePath})`);
  try {
    const outputs = await runProgram(program, project, stack, engine);
    await engine.deleteUnregistered();
    store.setOutputs(toJson(outputs));
    return report(engine.summary, started, log, outputs);
  } catch (err) {
    log(
      `! up failed after ${seconds(Date.now() - started)}: ${engine.redact((err as Error).message.split("\n")[0])}`,
    );
    throw err;
  }
}

/** Deletes everything in the state, in reverse creation order. */
export async function destroy(opts: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  if (!readState(opts.statePath)) {
    log(`destroy: no state at ${opts.statePath}, nothing to delete`);
    return report(emptySummary(), started, log, {});
  }
  const { store, engine, project, stack } = open(opts);
  log(`destroy ${project}/${stack} (state ${opts.statePath})`);
  await engine.deleteAll();
  store.setOutputs({});
  return report(engine.summary, started, log, {});
}

/** Stack outputs as plain JSON for the state file (Resources become their JSON form). */
function toJson(outputs: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(outputs, (_k, v: unknown) => (pulumi.Output.isInstance(v) ? undefined : v)) ?? "{}",
  ) as Record<string, unknown>;
}
