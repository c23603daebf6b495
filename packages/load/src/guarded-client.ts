/**
 * Lifecycle guard around a plugin's client: the load stage never calls a destination directly, so
 * plugin authors need not re-implement "initialise once, dispose once, no use after dispose".
 */
import {
  type DestinationClient,
  type DestinationError,
  type FollowupJob,
  type LoadJob,
  type LoadJobFile,
  type SchemaUpdateResult,
  supportsBatchLoadJobs,
  supportsDropTables,
  supportsStagingDataset,
  supportsTableChainFollowupJobs,
  type TableChain,
  type TableSchema,
  TsdltError,
} from "@tsdlt/core";

/** A {@link DestinationClient} wrapped by {@link GuardedClient}. */
export class GuardedClient implements AsyncDisposable {
  readonly #client: DestinationClient;
  readonly #destination: string;
  #initialized: Promise<void> | undefined;
  #disposed = false;

  constructor(client: DestinationClient, destinationName: string) {
    this.#client = client;
    this.#destination = destinationName;
  }

  /** The wrapped client (for optional abilities such as state sync). */
  get client(): DestinationClient {
    this.#assertOpen();
    return this.#client;
  }

  #assertOpen(): void {
    if (this.#disposed) {
      throw new TsdltError(
        `[tsdlt] [${this.#destination}] The destination client was used after it was disposed.`,
        {
          code: "CLIENT_DISPOSED",
          destination: this.#destination,
        },
      );
    }
  }

  /** Initialises storage once, however often it is called. Rejects (never throws) after dispose. */
  async initializeStorage(): Promise<void> {
    this.#assertOpen();
    this.#initialized ??= this.#client.initializeStorage();
    return this.#initialized;
  }

  async updateStoredSchema(options?: { onlyTables?: readonly string[] }): Promise<SchemaUpdateResult> {
    await this.initializeStorage();
    return options === undefined
      ? this.#client.updateStoredSchema()
      : this.#client.updateStoredSchema(options);
  }

  /** Empties dataset tables that exist (the client's `initializeStorage({ truncateTables })`). */
  async truncateTables(tables: readonly string[]): Promise<void> {
    await this.initializeStorage();
    if (tables.length > 0) await this.#client.initializeStorage({ truncateTables: tables });
  }

  /**
   * Drops `tables` and the stored versions of the schema (the client's `dropTables`). Returns false,
   * dropping nothing, when the client cannot drop tables.
   */
  async dropTables(tables: readonly string[]): Promise<boolean> {
    await this.initializeStorage();
    if (!supportsDropTables(this.#client)) return false;
    await this.#client.dropTables(tables, { deleteSchema: true });
    return true;
  }

  async createLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<LoadJob> {
    await this.initializeStorage();
    return this.#client.createLoadJob(table, job, loadId);
  }

  /**
   * One job loading several files of `table` (see `WithBatchLoadJobs`), or undefined when the client
   * has no batch jobs or declines these files.
   */
  async createBatchLoadJob(
    table: TableSchema,
    files: readonly LoadJobFile[],
    loadId: string,
    options: { readonly staging: boolean },
  ): Promise<LoadJob | undefined> {
    await this.initializeStorage();
    if (!supportsBatchLoadJobs(this.#client)) return undefined;
    return this.#client.createBatchLoadJob(table, files, loadId, options);
  }

  /** Prepares the staging dataset; rejects when the client has none. */
  async initializeStagingDataset(options: {
    readonly tables: readonly string[];
    readonly truncateTables: readonly string[];
  }): Promise<SchemaUpdateResult> {
    await this.initializeStorage();
    if (!supportsStagingDataset(this.#client)) throw this.#missing("a staging dataset");
    return this.#client.initializeStagingDataset(options);
  }

  /** A job loading into the staging dataset; rejects when the client has none. */
  async createStagingLoadJob(table: TableSchema, job: LoadJobFile, loadId: string): Promise<LoadJob> {
    await this.initializeStorage();
    if (!supportsStagingDataset(this.#client)) throw this.#missing("a staging dataset");
    return this.#client.createStagingLoadJob(table, job, loadId);
  }

  /** The follow-up jobs of a completed chain; rejects when the client creates none. */
  async createTableChainFollowupJobs(chain: TableChain, loadId: string): Promise<FollowupJob[]> {
    await this.initializeStorage();
    if (!supportsTableChainFollowupJobs(this.#client)) throw this.#missing("table chain follow-up jobs");
    return this.#client.createTableChainFollowupJobs(chain, loadId);
  }

  #missing(what: string): TsdltError {
    return new TsdltError(`[tsdlt] [${this.#destination}] The destination client has no ${what}.`, {
      code: "DESTINATION_TERMINAL",
      destination: this.#destination,
    });
  }

  async completeLoad(loadId: string): Promise<void> {
    await this.initializeStorage();
    return this.#client.completeLoad(loadId);
  }

  /** Disposes the client once; later calls are no-ops. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#client[Symbol.asyncDispose]();
  }
}

/** Type of errors the load stage inspects. */
export type { DestinationError };
