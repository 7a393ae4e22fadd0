// Capturing a command's stdout/stderr, logging it as the `logging` input says, and the error of a failed command.

export type Logging = "stdout" | "stderr" | "stdoutAndStderr" | "none";

export function parseLogging(v: unknown): Logging {
  if (v === undefined || v === null) return "stdoutAndStderr";
  if (v === "stdout" || v === "stderr" || v === "stdoutAndStderr" || v === "none") return v;
  throw new Error(`logging must be one of stdout, stderr, stdoutAndStderr, none (got ${JSON.stringify(v)})`);
}

export const logsStdout = (l: Logging): boolean => l === "stdout" || l === "stdoutAndStderr";
export const logsStderr = (l: Logging): boolean => l === "stderr" || l === "stdoutAndStderr";

/** Accumulates one stream, handing complete lines to `onLine` (if given). */
export class StreamCapture {
  private readonly chunks: Buffer[] = [];
  private partial = "";

  constructor(private readonly onLine?: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.chunks.push(buf);
    if (!this.onLine) return;
    this.partial += buf.toString("utf8");
    const lines = this.partial.split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) this.onLine(line);
  }

  end(): void {
    if (this.onLine && this.partial !== "") this.onLine(this.partial);
    this.partial = "";
  }

  /** The whole output, without one trailing newline (as @pulumi/command's provider does). */
  text(): string {
    const s = Buffer.concat(this.chunks).toString("utf8");
    return s.endsWith("\n") ? s.slice(0, -1) : s;
  }
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal?: string;
  durationMs: number;
}

/**
 * The error of a command that did not exit 0: where it ran, the exit code, and the tail of stderr, unless
 * `logging` hides stderr (then the output stays suppressed in the error too).
 */
export function commandFailure(
  where: string,
  result: CommandResult,
  logging: Logging,
  redact: (s: string) => string,
): Error {
  const status =
    result.exitCode === null
      ? `was killed (${result.signal ?? "no exit status"})`
      : `failed with exit code ${result.exitCode}`;
  let detail: string;
  if (!logsStderr(logging)) {
    detail = `(output suppressed: logging is "${logging}")`;
  } else if (result.stderr.trim() === "") {
    detail = "(stderr was empty)";
  } else {
    const tail = result.stderr.split("\n").slice(-15);
    detail = "last lines of stderr:\n" + tail.map((l) => "    " + redact(l)).join("\n");
  }
  return new Error(`command on ${where} ${status}\n${detail}`);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}
