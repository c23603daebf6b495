/** Output, prompts and failures of the CLI. */
import { createInterface } from "node:readline/promises";

/** Where the CLI writes and how it asks; injectable for tests. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when questions can be answered (stdin is a terminal). @default false */
  readonly interactive?: boolean;
  /** Asks `question` and resolves to the answer. Used only when `interactive`. */
  readonly ask?: (question: string) => Promise<string>;
}

/** The process's terminal: interactive only when stdin is a TTY. */
export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactive: process.stdin.isTTY === true,
  ask: async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

/** A failure the CLI reports without a stack trace; `exitCode` 1 (failure) or 2 (usage). */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: 1 | 2;

  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Writes one line to stdout. */
export function printLine(io: CliIO, line = ""): void {
  io.stdout(`${line}\n`);
}

/** Writes one warning line to stderr. */
export function printWarning(io: CliIO, line: string): void {
  io.stderr(`WARNING: ${line}\n`);
}

/**
 * Asks a yes/no question whose default is No. With `yes` the answer is yes without asking; when the
 * CLI cannot ask (stdin is not a terminal) it refuses with a {@link CliError} naming `--yes`.
 */
export async function confirm(
  io: CliIO,
  question: string,
  options: { yes?: boolean | undefined },
): Promise<boolean> {
  if (options.yes) {
    printLine(io, `${question} [y/N]: y (--yes)`);
    return true;
  }
  if (!io.interactive || !io.ask) {
    throw new CliError(
      `${question} Cannot ask for confirmation: standard input is not a terminal. Pass --yes to confirm.`,
    );
  }
  const answer = (await io.ask(`${question} [y/N]: `)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}

/** A value as the CLI prints it (dlt prints Python's `None` for missing values). */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "None";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object") return JSON.stringify(value, jsonReplacer);
  return String(value);
}

/** `JSON.stringify` replacer for values DuckDB returns: bigint as number or string, bytes as length. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

/** A Python-style list literal, as dlt prints lists: `['a', 'b']`. */
export function pyList(items: readonly string[]): string {
  return `[${items.map((i) => `'${i}'`).join(", ")}]`;
}
