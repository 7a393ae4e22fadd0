// Runs a Pulumi program on Pulumi's own Node.js runtime in mock mode (`pulumi.runtime.setMocks`), with the
// mock monitor's resource registration routed to the lab runner's engine.
//
// - Isolation: every run happens inside a fresh runtime store (`withLocalStorage`, the mechanism Pulumi's
//   Automation API uses for inline programs), so several runs in one process do not share settings, the root
//   stack resource or the RPC queue.
// - setMocks installs a MockMonitor; the runner replaces that monitor's registerResource (to see the parent,
//   dependencies, deleteBeforeReplace, additionalSecretOutputs, replaceOnChanges, ignoreChanges and
//   retainOnDelete, which plain mocks do not get, and to hand out URNs with the full parent type chain as the
//   Pulumi engine does) and readResource (refused). Invokes go to the mocks' `call`, which refuses them.
// - Completion: the program's stack outputs resolve, then `disconnect()` waits for all outstanding RPCs, then the
//   engine waits for running operations. A failure anywhere (a resource, an invoke, the program, an unhandled
//   rejection) ends the wait at once: dependents of a failed resource are never registered, and `.apply`
//   chains waiting on them would otherwise hang forever.

import * as pulumi from "@pulumi/pulumi";
import { MockMonitor, type Mocks } from "@pulumi/pulumi/runtime/mocks";
import * as runtimeState from "@pulumi/pulumi/runtime/state";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import type { Engine } from "./engine";
import { watchRejections } from "./rejections";
import { unsupported } from "./resources";
import type { PropertyMap } from "./values";

export type Program = () => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;

type Callback<T> = (err: Error | null, response?: T) => void;

interface InternalState {
  withLocalStorage?: <T>(callback: () => T) => T;
}

/** Runs `fn` in a fresh Pulumi runtime store when this @pulumi/pulumi provides one (3.x does). */
function isolated<T>(fn: () => Promise<T>): Promise<T> {
  const withLocalStorage = (runtimeState as unknown as InternalState).withLocalStorage;
  return typeof withLocalStorage === "function" ? withLocalStorage(fn) : fn();
}

function qualifiedType(parentUrn: string, type: string): string {
  if (!parentUrn) return type;
  const parentType = parentUrn.split("::")[2] ?? "";
  return parentType === "" || parentType === "pulumi:pulumi:Stack" ? type : `${parentType}$${type}`;
}

/** Resolves when `p` does; rejects with the engine's first error as soon as there is one. */
function untilFailure<T>(p: Promise<T>, engine: Engine): Promise<T> {
  p.catch(() => undefined);
  return Promise.race([
    p,
    engine.failed.then((err) => {
      throw err;
    }),
  ]);
}

/**
 * Runs the program against the engine. Resolves with the root stack outputs once every registration has been
 * carried out; rejects with the first error once the operations already running have finished.
 */
export function runProgram(
  program: Program,
  project: string,
  stack: string,
  engine: Engine,
): Promise<PropertyMap> {
  const unwatch = watchRejections(engine);
  return isolated(async () => {
    try {
      await installMonitor(project, stack, engine);
      const done = pulumi.runtime.runInPulumiStack(async () => (await program()) ?? {});
      done.catch((err: unknown) => engine.fail(err));
      const outputs = (await untilFailure(done, engine)) as PropertyMap | undefined;
      await untilFailure(pulumi.runtime.disconnect(), engine);
      await engine.settle();
      if (engine.error) throw engine.error;
      return outputs ?? {};
    } catch (err) {
      await engine.settle();
      throw engine.error ?? err;
    } finally {
      unwatch();
    }
  });
}

async function installMonitor(project: string, stack: string, engine: Engine): Promise<void> {
  const mocks: Mocks = {
    newResource: (args) => {
      throw new Error(`internal: the lab monitor should have handled ${args.type} ${args.name}`);
    },
    call: (args) => {
      throw engine.fail(unsupported(args.token, "", "function call"));
    },
  };
  await pulumi.runtime.setMocks(mocks, project, stack, false);
  const monitor: unknown = pulumi.runtime.getMonitor();
  if (!(monitor instanceof MockMonitor)) throw new Error("internal: setMocks did not install a MockMonitor");

  const urnOf = (parent: string, type: string, name: string): string =>
    `urn:pulumi:${stack}::${project}::${qualifiedType(parent, type)}::${name}`;

  monitor.registerResource = async (
    req: resproto.RegisterResourceRequest,
    callback: Callback<resproto.RegisterResourceResponse>,
  ): Promise<void> => {
    try {
      const urn = urnOf(req.getParent(), req.getType(), req.getName());
      const object = req.getObject();
      const result = await engine.register({
        urn,
        type: req.getType(),
        name: req.getName(),
        parent: req.getParent(),
        custom: req.getCustom(),
        rawInputs: object ? (pulumi.runtime.deserializeProperties(object) as PropertyMap) : {},
        deleteBeforeReplace: req.getDeletebeforereplace(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        ignoreChanges: req.getIgnorechangesList(),
        retainOnDelete: req.getRetainondelete() === true,
      });
      const serialized = await pulumi.runtime.serializeProperties("", result.outputs);
      monitor.resources.set(urn, { urn, id: result.id || null, state: serialized });
      const response = new resproto.RegisterResourceResponse();
      response.setUrn(urn);
      response.setId(result.id);
      response.setObject(structproto.Struct.fromJavaScript(serialized));
      callback(null, response);
    } catch (err) {
      callback(err instanceof Error ? err : new Error(String(err)));
    }
  };

  monitor.readResource = async (
    req: resproto.ReadResourceRequest,
    callback: Callback<unknown>,
  ): Promise<void> => {
    const err = new Error(
      `the lab runner cannot read existing resources: ${req.getType()}.get (resource ${req.getName()})`,
    );
    callback(engine.fail(err));
  };
}
