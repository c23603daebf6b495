/**
 * Buffered writer of one table's `jsonl` job files: rows are written in chunks; a new file is started
 * every `fileMaxItems` rows or once a file reaches `fileMaxBytes`. Files are fsynced when closed, so a
 * committed package never holds truncated files.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { formatJobFileName, type LoadPackage, newFileId } from "@tsdlt/core";

/** Options of {@link JobWriter}. */
export interface JobWriterOptions {
  readonly pkg: LoadPackage;
  readonly tableName: string;
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
 * Writes the rows of one table as `<table>.<file_id>.0.jsonl` files in a package's `new_jobs/`.
 * Rows are UTF-8 encoded straight into one reused buffer, which is written out when full: no
 * per-row allocation and no growth with the number of rows.
 */
export class JobWriter {
  readonly tableName: string;
  readonly files: WrittenJobFile[] = [];
  private readonly pkg: LoadPackage;
  private readonly fileMaxItems: number;
  private readonly fileMaxBytes: number;
  private bytesInFile = 0;
  private buffer: Buffer | undefined;
  private readonly bufferBytes: number;
  private used = 0;
  private fd: number | undefined;
  private current: { fileName: string; path: string } | undefined;
  private rowsInFile = 0;

  constructor(options: JobWriterOptions) {
    this.pkg = options.pkg;
    this.tableName = options.tableName;
    this.fileMaxItems = options.fileMaxItems ?? Number.POSITIVE_INFINITY;
    this.fileMaxBytes = options.fileMaxBytes ?? Number.POSITIVE_INFINITY;
    this.bufferBytes = options.bufferBytes ?? 128 * 1024;
  }

  /** Appends one row (a JSON object without the trailing newline). */
  write(line: string): void {
    if (this.fd === undefined) this.open();
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
    this.rowsInFile++;
    if (this.rowsInFile >= this.fileMaxItems || this.bytesInFile >= this.fileMaxBytes) this.closeFile();
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

  /** Makes sure a file exists even when no row is written (an empty job materializes the table). */
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
      fileFormat: "jsonl",
      compressed: false,
    });
    const path = this.pkg.jobPath("new_jobs", fileName);
    this.fd = openSync(path, "wx");
    this.current = { fileName, path };
    this.rowsInFile = 0;
    this.bytesInFile = 0;
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
}
