/**
 * Recordings committed as JSON files: a list of request → response exchanges. `{{origin}}` in bodies and
 * headers stands for the fixture server's origin, so absolute next-page URLs point back at it.
 */

import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { exactPath, type FixtureRoute } from "./fixture-server.js";

/** One recorded exchange. */
export interface RecordedExchange {
  /** @default "GET" */
  readonly method?: string;
  /** Path and query; matches exactly this path and these parameters (in any order). */
  readonly path: string;
  /** When set, the request's JSON body must equal it. */
  readonly requestBody?: unknown;
  /** @default 200 */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** How many requests it answers. @default Infinity */
  readonly times?: number;
}

/** A recording file. */
export interface Recording {
  /** Where the shape or data comes from. */
  readonly source?: string;
  readonly description?: string;
  readonly exchanges: readonly RecordedExchange[];
}

const ORIGIN = "{{origin}}";

/** Reads a recording file. */
export function readRecording(file: string | URL): Recording {
  return JSON.parse(readFileSync(file, "utf8")) as Recording;
}

/** Routes answering the exchanges of a recording (a file path or the parsed recording). */
export function recordingRoutes(recording: Recording | string | URL): FixtureRoute[] {
  const { exchanges } =
    typeof recording === "string" || recording instanceof URL ? readRecording(recording) : recording;
  return exchanges.map((exchange): FixtureRoute => {
    const route: FixtureRoute = {
      method: exchange.method ?? "GET",
      path: exactPath(exchange.path),
      respond: (_request, server) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(exchange.headers ?? {}))
          headers[k] = v.replaceAll(ORIGIN, server.url);
        const body =
          exchange.body === undefined
            ? undefined
            : typeof exchange.body === "string"
              ? exchange.body.replaceAll(ORIGIN, server.url)
              : (JSON.parse(JSON.stringify(exchange.body).replaceAll(ORIGIN, server.url)) as unknown);
        return { status: exchange.status ?? 200, headers, body };
      },
    };
    return {
      ...route,
      ...(exchange.times !== undefined ? { times: exchange.times } : {}),
      ...(exchange.requestBody !== undefined
        ? { match: (request) => isDeepStrictEqual(request.json, exchange.requestBody) }
        : {}),
    };
  });
}
