/**
 * Buffered writer of one table's job files (`jsonl` or `csv`): rows are written in chunks; a new file
 * is started every `fileMaxItems` rows or once a file reaches `fileMaxBytes`. Files are fsynced when
 * closed, so a committed package never holds truncated files.
 *
 * A `csv` file starts with a header line naming its columns, and the header is fixed for the file
 * (the format is described in `docs/custom-destination.md`, "Job files"): the normalizer asks for
 * the column positions of the open file and {@link JobWriter.rotate}s to a new file when a row has a
 * column the header lacks.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from "node:fs";
import { formatJobFileName, type LoadPackage, newFileId } from "@tsdlt/core";
import { csvText } from "./csv-text.js";

const NEWLINE = Uint8Array.of(0x0a);

/** The job file formats normalize writes. */
export type NormalizedFileFormat = "jsonl" | "csv";

/** Options of {@link JobWriter}. */
export interface JobWriterOptions {
  readonly pkg: LoadPackage;
  readonly tableName: string;
  /** @default "jsonl" */
  readonly fileFormat?: NormalizedFileFormat;
  /** `csv`: the names of the columns of a new file's header (called when a file is opened). */
  readonly columns?: (() => readonly string[]) | undefined;
  /**
   * `csv`: delete a file that holds no rows when it rotates to a new header (a file written by
   * {@link JobWriter.ensureFile} that then gets rows with more columns). Off when the files written
   * are reported (worker threads): the main thread cleans up empty files itself.
   */
  readonly dropEmptyOnRotate?: boolean;
  /** Rows per file before rotation; undefined → one file. */
  readonly fileMaxItems: number | undefined;
  /** Bytes per file before rotation (checked after each row); undefined → no limit. */
  readonly fileMaxBytes?: number | undefined;
  /** Bytes buffered before a write (allocated on the first row). @default 128 KiB */
  readonly bufferBytes?: number;
}

/** A file written by a {@link JobWriter}. */
export interface WrittenJobFile {
  readonly fileName: string;
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
}

/**
 * Writes the rows of one table as `<table>.<file_id>.0.<format>` files in a package's `new_jobs/`.
 * Rows are UTF-8 encoded straight into one reused buffer, which is written out when full: no
 * per-row allocation and no growth with the number of rows.
 */
export class JobWriter {
  readonly tableName: string;
  readonly fileFormat: NormalizedFileFormat;
  readonly files: WrittenJobFile[] = [];
  private readonly pkg: LoadPackage;
  private readonly fileMaxItems: number;
  private readonly fileMaxBytes: number;
  private readonly columns: (() => readonly string[]) | undefined;
  private readonly dropEmptyOnRotate: boolean;
  private bytesInFile = 0;
  private buffer: Buffer | undefined;
  private readonly bufferBytes: number;
  private used = 0;
  private fd: number | undefined;
  private current: { fileName: string; path: string } | undefined;
  private rowsInFile = 0;
  /** `csv`: header positions of the open file's columns. */
  private positions: Map<string, number> = new Map();
  private width = 0;
  private fileGeneration = 0;

  constructor(options: JobWriterOptions) {
    this.pkg = options.pkg;
    this.tableName = options.tableName;
    this.fileFormat = options.fileFormat ?? "jsonl";
    this.columns = options.columns;
    this.dropEmptyOnRotate = options.dropEmptyOnRotate ?? false;
    if (this.fileFormat === "csv" && this.columns === undefined) {
      throw new Error("a csv JobWriter needs `columns`");
    }
    this.fileMaxItems = options.fileMaxItems ?? Number.POSITIVE_INFINITY;
    this.fileMaxBytes = options.fileMaxBytes ?? Number.POSITIVE_INFINITY;
    this.bufferBytes = options.bufferBytes ?? 128 * 1024;
  }

  /** Appends one row (a JSON object or a CSV record, without the trailing newline). */
  write(line: string): void {
    this.ensureOpen();
    this.append(line);
    this.rowsInFile++;
    if (this.rowsInFile >= this.fileMaxItems || this.bytesInFile >= this.fileMaxBytes) this.closeFile();
  }

  /** Appends one row given as the UTF-8 bytes `[0, length)` of `bytes` (without the trailing newline). */
  writeBytes(bytes: Uint8Array, length: number): void {
    this.ensureOpen();
    let buffer = this.buffer;
    if (buffer === undefined) {
      buffer = Buffer.allocUnsafe(this.bufferBytes);
      this.buffer = buffer;
    }
    if (this.used + length + 1 > buffer.length) this.flush();
    if (length + 1 > buffer.length) {
      this.writeAll(bytes.subarray(0, length));
      this.writeAll(NEWLINE);
    } else {
      buffer.set(new Uint8Array(bytes.buffer, bytes.byteOffset, length), this.used);
      this.used += length;
      buffer[this.used++] = 0x0a;
    }
    this.bytesInFile += length + 1;
    this.rowsInFile++;
    if (this.rowsInFile >= this.fileMaxItems || this.bytesInFile >= this.fileMaxBytes) this.closeFile();
  }

  /** Opens a new file unless one is open (a `csv` file gets its header now). */
  ensureOpen(): void {
    if (this.fd === undefined) this.open();
  }

  /**
   * Identifies the open file: changes whenever another file is opened (a position cached for one
   * file is stale for the next).
   */
  get generation(): number {
    return this.fileGeneration;
  }

  /** `csv`: the number of columns in the open file's header. */
  get columnCount(): number {
    return this.width;
  }

  /** `csv`: the position of column `name` in the open file's header, -1 when it is not there. */
  positionOf(name: string): number {
    return this.positions.get(name) ?? -1;
  }

  /**
   * Closes the open file and opens a new one (a `csv` file whose header lacks a column of a row).
   * A file without rows is deleted when the writer drops such files.
   */
  rotate(): void {
    if (this.fd !== undefined) {
      if (this.rowsInFile === 0 && this.dropEmptyOnRotate) this.deleteOpenFile();
      else this.closeFile();
    }
    this.open();
  }

  /** The open file: its name, and the bytes and rows written to it so far (buffered ones included). */
  get openFile(): { readonly fileName: string; readonly bytes: number; readonly rows: number } | undefined {
    const current = this.current;
    return current === undefined
      ? undefined
      : { fileName: current.fileName, bytes: this.bytesInFile, rows: this.rowsInFile };
  }

  /** Writes the buffered rows to the open file (without closing or syncing it). */
  flushBuffer(): void {
    this.flush();
  }

  /**
   * Makes sure a file exists even when no row is written (an empty job materializes the table). A
   * `csv` file then holds its header only, or nothing when the table has no complete column.
   */
  ensureFile(): void {
    if (this.fd === undefined && this.files.length === 0) this.open();
  }

  /** Flushes and closes the open file. */
  close(): void {
    if (this.fd !== undefined) this.closeFile();
    this.buffer = undefined;
  }

  /** Closes the open file without flushing (used when the whole package is abandoned). */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.buffer = undefined;
    this.used = 0;
  }

  private open(): void {
    const fileName = formatJobFileName({
      tableName: this.tableName,
      fileId: newFileId(),
      retryCount: 0,
      fileFormat: this.fileFormat,
      compressed: false,
    });
    const path = this.pkg.jobPath("new_jobs", fileName);
    this.fd = openSync(path, "wx");
    this.current = { fileName, path };
    this.rowsInFile = 0;
    this.bytesInFile = 0;
    // a slot's cached header position belongs to one table, so one writer: its own count suffices
    this.fileGeneration++;
    const columns = this.columns;
    if (columns !== undefined) {
      const names = columns();
      this.positions = new Map(names.map((name, i) => [name, i]));
      this.width = names.length;
      if (names.length > 0) this.append(names.map(csvText).join(","));
    }
  }

  /** Appends `line` and a newline to the open file (through the buffer). */
  private append(line: string): void {
    let buffer = this.buffer;
    if (buffer === undefined) {
      buffer = Buffer.allocUnsafe(this.bufferBytes);
      this.buffer = buffer;
    }
    // a UTF-16 code unit takes at most 3 bytes in UTF-8
    const worstCase = line.length * 3 + 1;
    if (this.used + worstCase > buffer.length) this.flush();
    if (worstCase > buffer.length) {
      const bytes = Buffer.from(`${line}\n`, "utf8");
      this.writeAll(bytes);
      this.bytesInFile += bytes.length;
    } else {
      const written = buffer.write(line, this.used, "utf8") + 1;
      this.used += written - 1;
      buffer[this.used++] = 0x0a;
      this.bytesInFile += written;
    }
  }

  private flush(): void {
    if (this.used === 0 || this.buffer === undefined) return;
    this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(data: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) return;
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset);
  }

  private closeFile(): void {
    this.flush();
    const fd = this.fd;
    const current = this.current;
    if (fd === undefined || current === undefined) return;
    fsyncSync(fd);
    closeSync(fd);
    this.fd = undefined;
    this.current = undefined;
    this.files.push({ ...current, rows: this.rowsInFile, bytes: this.bytesInFile });
  }

  /** Closes and deletes the open file (it holds no rows). */
  private deleteOpenFile(): void {
    const fd = this.fd;
    const current = this.current;
    if (fd === undefined || current === undefined) return;
    this.used = 0;
    closeSync(fd);
    rmSync(current.path, { force: true });
    this.fd = undefined;
    this.current = undefined;
  }
}
