/** Elapsed-time text as dlt prints it (humanize `precisedelta`, seconds with two decimals). */

const UNITS: readonly [string, number][] = [
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** `0.26 seconds`, `1 second`, `1 minute and 4.11 seconds`, `1 hour and 0.50 seconds`; `---` when unknown. */
export function formatElapsed(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "---";
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(plural(n, unit));
      rest -= n * size;
    }
  }
  const rounded = Math.round(rest * 100) / 100;
  if (rounded > 0 || parts.length === 0) {
    parts.push(
      Number.isInteger(rounded) && rounded !== 0
        ? plural(rounded, "second")
        : `${rounded.toFixed(2)} seconds`,
    );
  }
  if (parts.length === 1) return parts[0] as string;
  return `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}
