// Local commands (command:local:Command), as @pulumi/command 1.2.1's provider runs them: the interpreter
// (default /bin/sh -c) plus the command, in `dir` (default: the current directory), with the process's
// environment plus `environment` plus PULUMI_COMMAND_STDOUT/STDERR, and `stdin` written then closed.

import { spawn } from "node:child_process";
import { type CommandResult, StreamCapture } from "./output";

export interface LocalRun {
  command: string;
  interpreter?: string[];
  dir?: string;
  env: Record<string, string>;
  stdin?: string;
  onStdout?: (line: string) => void;
  onStderr?: (line: string) => void;
}

export function runLocal(run: LocalRun): Promise<CommandResult> {
  const started = Date.now();
  const argv = run.interpreter && run.interpreter.length > 0 ? run.interpreter : ["/bin/sh", "-c"];
  const stdout = new StreamCapture(run.onStdout);
  const stderr = new StreamCapture(run.onStderr);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], [...argv.slice(1), run.command], {
      cwd: run.dir ?? process.cwd(),
      env: { ...process.env, ...run.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.on("error", (err) => reject(new Error(`cannot start ${argv[0]}: ${err.message}`)));
    child.stdout.on("data", (d: Buffer) => stdout.push(d));
    child.stderr.on("data", (d: Buffer) => stderr.push(d));
    child.stdin.on("error", () => undefined); // the command may exit without reading stdin
    child.on("close", (code, signal) => {
      stdout.end();
      stderr.end();
      resolve({
        stdout: stdout.text(),
        stderr: stderr.text(),
        exitCode: code,
        signal: signal ?? undefined,
        durationMs: Date.now() - started,
      });
    });
    if (run.stdin !== undefined && run.stdin.length > 0) child.stdin.end(run.stdin);
    else child.stdin.end();
  });
}
