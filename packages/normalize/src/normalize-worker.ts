/**
 * Entry point of a normalize worker thread (see `parallel-normalize.ts`). The main thread starts a
 * round by sending the schema to start from, then sends extracted job files one at a time, in
 * increasing file order. The worker normalizes each file into the shared output package with its own
 * {@link RelationalNormalizer} (its schema evolving over the files it saw) and answers with a
 * {@link NormalizerFileReport}: the schema changes, nulls, tables, rows and job files of that file.
 *
 * @internal
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { LoadPackage, namingConvention, Schema } from "@tsdlt/core";
import { normalizeJobFile } from "./job-file.js";
import type { NormalizedFileFormat } from "./job-writer.js";
import { type NormalizerFileReport, RelationalNormalizer } from "./relational-normalizer.js";

/** What a worker gets at start (`workerData`). @internal */
export interface NormalizeWorkerSetup {
  readonly loadId: string;
  /** Folder of the (temporary) normalized package receiving the job files. */
  readonly outputPath: string;
  /** Maximum identifier length of the naming convention. */
  readonly maxIdentifierLength: number;
  readonly fileFormat: NormalizedFileFormat;
  readonly fileMaxItems: number | undefined;
  readonly fileMaxBytes: number | undefined;
  readonly maxTableNesting: number | undefined;
  /** Where the worker answers (the worker's own port when not given). */
  readonly answers?: MessagePort;
}

/** Messages from the main thread. @internal */
export type ToNormalizeWorker =
  | {
      readonly type: "round";
      readonly schema: unknown;
      /** Tables met in files already merged, with their parents (null for roots). */
      readonly tables: readonly (readonly [string, string | null])[];
    }
  | { readonly type: "close" }
  | {
      readonly type: "file";
      readonly index: number;
      readonly path: string;
      readonly fileName: string;
      readonly tableName: string;
      readonly compressed: boolean;
    };

/** Messages to the main thread. @internal */
export type FromNormalizeWorker =
  | { readonly type: "done"; readonly index: number; readonly report: NormalizerFileReport }
  | { readonly type: "error"; readonly index: number; readonly message: string }
  | { readonly type: "closed" };

const port = parentPort;
if (port !== null) {
  const setup = workerData as NormalizeWorkerSetup;
  const answers = setup.answers ?? port;
  const output = new LoadPackage(setup.loadId, setup.outputPath);
  let current:
    | { normalizer: RelationalNormalizer; normalizeTablesPath: (name: string) => string }
    | undefined;
  // files arrive while one is being normalized: handle them strictly one after another
  let queue: Promise<void> = Promise.resolve();

  const handle = async (message: ToNormalizeWorker): Promise<void> => {
    if (message.type === "round") {
      current?.normalizer.abort();
      const schema = Schema.fromDict(message.schema);
      const naming = namingConvention(schema.normalizers.names, { maxLength: setup.maxIdentifierLength });
      const normalizer = new RelationalNormalizer({
        schema,
        naming,
        loadId: setup.loadId,
        output,
        fileFormat: setup.fileFormat,
        fileMaxItems: setup.fileMaxItems,
        fileMaxBytes: setup.fileMaxBytes,
        maxTableNesting: setup.maxTableNesting,
      });
      normalizer.recordChanges(message.tables);
      current = { normalizer, normalizeTablesPath: (name) => naming.normalizeTablesPath(name) };
      return;
    }
    if (message.type === "close") {
      // end of a round: the job files are complete (flushed and synced) before the main thread uses them
      let reply: FromNormalizeWorker = { type: "closed" };
      try {
        current?.normalizer.close();
      } catch (error) {
        current?.normalizer.abort();
        reply = { type: "error", index: -1, message: error instanceof Error ? error.message : String(error) };
      }
      current = undefined;
      answers.postMessage(reply);
      return;
    }
    const { normalizer, normalizeTablesPath } = current as NonNullable<typeof current>;
    try {
      const root = normalizer.rootTable(normalizeTablesPath(message.tableName));
      await normalizeJobFile(
        normalizer,
        root,
        message.path,
        message.fileName,
        message.compressed,
        setup.loadId,
      );
      const reply: FromNormalizeWorker = {
        type: "done",
        index: message.index,
        report: normalizer.takeFileReport(),
      };
      answers.postMessage(reply);
    } catch (error) {
      normalizer.abort();
      const reply: FromNormalizeWorker = {
        type: "error",
        index: message.index,
        message: error instanceof Error ? error.message : String(error),
      };
      answers.postMessage(reply);
    }
  };

  port.on("message", (message: ToNormalizeWorker) => {
    queue = queue.then(() => handle(message));
  });
}
