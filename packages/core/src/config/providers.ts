/**
 * Config providers (REFERENCE §8.2): environment variables, then `secrets.toml`, then `config.toml`
 * (each TOML provider reads the project's `.dlt/` folder, then the global folder; project values win),
 * then any registered custom providers. A {@link ConfigContext} holds one set of providers and the
 * active pipeline name used for pipeline-prefixed lookups.
 */
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { TsdltError } from "../errors.js";
import { globalDir, projectSettingsDir } from "./paths.js";

/** The result of one provider lookup: the key as the provider names it, and the value if present. */
export interface ProviderLookup {
  /** The key in the provider's own spelling (`SOURCES__GITHUB__ACCESS_TOKEN`, `sources.github.access_token`). */
  readonly key: string;
  /** The value, or `undefined` when the provider does not hold the key. */
  readonly value: unknown;
  /** The file the value came from (TOML providers). */
  readonly location?: string | undefined;
}

/** Files a provider read and files it looked for but did not find. */
export interface ProviderLocations {
  readonly loaded: readonly string[];
  readonly notFound: readonly string[];
}

/**
 * A source of config values. Implement it to add a vault; register it with
 * {@link registerConfigProvider}.
 */
export interface ConfigProvider {
  /** Shown in traces and messages: `Environment Variables`, `secrets.toml`, `config.toml`. */
  readonly name: string;
  /** Whether secrets may be read from this provider (`config.toml` may not hold them). */
  readonly supportsSecrets: boolean;
  /** Whether keys have sections (all built-in providers do). Providers without skip prefixed lookups. */
  readonly supportsSections: boolean;
  /** True when the provider holds nothing; empty providers are not queried. */
  readonly isEmpty: boolean;
  readonly locations: ProviderLocations;
  /** The key for a path (`["sources", "github", "access_token"]`) in the provider's spelling. */
  keyOf(path: readonly string[]): string;
  lookup(path: readonly string[]): ProviderLookup;
}

/** Environment variables: sections and key joined with `__`, upper-cased (`SOURCES__GITHUB__ACCESS_TOKEN`). */
export class EnvironProvider implements ConfigProvider {
  readonly name = "Environment Variables";
  readonly supportsSecrets = true;
  readonly supportsSections = true;
  readonly isEmpty = false;
  readonly locations: ProviderLocations = { loaded: [], notFound: [] };
  readonly #env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.#env = env;
  }

  keyOf(path: readonly string[]): string {
    return path.join("__").toUpperCase();
  }

  lookup(path: readonly string[]): ProviderLookup {
    const key = this.keyOf(path);
    return { key, value: Object.hasOwn(this.#env, key) ? this.#env[key] : undefined };
  }
}

type Table = Record<string, unknown>;

interface CachedFile {
  readonly mtimeMs: number;
  readonly size: number;
  readonly doc: Table;
}

const fileCache = new Map<string, CachedFile>();

function isTable(value: unknown): value is Table {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date)
    return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Reads and parses a TOML file (cached until its size or mtime changes); `undefined` when missing.
 * A syntax error fails with the file, line and column but never the offending text (it may be a secret).
 */
function readTomlFile(file: string): Table | undefined {
  let stat: { mtimeMs: number; size: number; isFile(): boolean };
  try {
    stat = statSync(file);
  } catch {
    return undefined;
  }
  if (!stat.isFile()) return undefined;
  const cached = fileCache.get(file);
  if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.doc;
  let doc: Table;
  try {
    doc = plainTables(parseToml(readFileSync(file, "utf8"))) as Table;
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : "";
    const reason =
      error instanceof TomlError
        ? (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "")
        : error instanceof Error
          ? error.message
          : String(error);
    throw new TsdltError(
      `[tsdlt] [config] ${file} is not valid TOML${where}: ${reason}. Fix the file (the offending line is not shown because it may hold a secret).`,
      { code: "CONFIG_FILE_INVALID", path: file },
    );
  }
  fileCache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, doc });
  return doc;
}

/** smol-toml returns null-prototype tables; users get ordinary objects. */
function plainTables(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainTables);
  if (!isTable(value)) return value;
  const out: Table = {};
  for (const [key, item] of Object.entries(value)) out[key] = plainTables(item);
  return out;
}

function getPath(doc: unknown, path: readonly string[]): unknown {
  let current = doc;
  for (const part of path) {
    if (!isTable(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

/** Deep merge where `over` wins; tables are merged, everything else replaced. */
function mergeTables(under: Table, over: Table): Table {
  const out: Table = { ...under };
  for (const [key, value] of Object.entries(over)) {
    const base = out[key];
    out[key] = isTable(base) && isTable(value) ? mergeTables(base, value) : value;
  }
  return out;
}

/** Values set in code (`config.set`, `secrets.set`), per provider name; they win over the files. */
const overlays = new Map<string, Table>();

/** The location shown for values set in code. */
export const IN_MEMORY_LOCATION = "<set in code>";

/** Sets a value in a TOML provider's in-memory layer (not written to disk). @internal */
export function setProviderValue(providerName: string, path: readonly string[], value: unknown): void {
  const root = overlays.get(providerName) ?? {};
  overlays.set(providerName, root);
  let current = root;
  for (const part of path.slice(0, -1)) {
    const next = current[part];
    if (!isTable(next)) current[part] = {};
    current = current[part] as Table;
  }
  const last = path[path.length - 1];
  if (last !== undefined) current[last] = value;
}

/** Drops every value set in code. @internal For tests. */
export function clearProviderValues(): void {
  overlays.clear();
}

/** Options of {@link TomlProvider}. */
export interface TomlProviderOptions {
  readonly supportsSecrets: boolean;
}

/**
 * A TOML file provider (`secrets.toml` or `config.toml`) over several files, most important first
 * (project `.dlt/`, then the global folder). Keys are dotted paths (`sources.github.access_token`).
 */
export class TomlProvider implements ConfigProvider {
  readonly name: string;
  readonly supportsSecrets: boolean;
  readonly supportsSections = true;
  readonly locations: ProviderLocations;
  readonly #docs: readonly { readonly file: string; readonly doc: Table }[];

  /** @param files absolute paths, most important first; missing files are recorded as not found. */
  constructor(name: string, files: readonly string[], options: TomlProviderOptions) {
    this.name = name;
    this.supportsSecrets = options.supportsSecrets;
    const loaded: string[] = [];
    const notFound: string[] = [];
    const docs: { file: string; doc: Table }[] = [];
    for (const file of [...new Set(files.map((f) => resolve(f)))]) {
      const doc = readTomlFile(file);
      if (doc === undefined) {
        notFound.push(file);
      } else {
        loaded.push(file);
        docs.push({ file, doc });
      }
    }
    this.#docs = docs;
    this.locations = { loaded, notFound };
  }

  get isEmpty(): boolean {
    const overlay = overlays.get(this.name);
    if (overlay && Object.keys(overlay).length > 0) return false;
    return this.#docs.every((d) => Object.keys(d.doc).length === 0);
  }

  keyOf(path: readonly string[]): string {
    return path.join(".");
  }

  lookup(path: readonly string[]): ProviderLookup {
    const key = this.keyOf(path);
    const layers: { file: string; doc: unknown }[] = [
      { file: IN_MEMORY_LOCATION, doc: overlays.get(this.name) },
      ...this.#docs,
    ];
    let found: { value: unknown; location: string } | undefined;
    for (const layer of layers) {
      const value = getPath(layer.doc, path);
      if (value === undefined) continue;
      if (found === undefined) {
        found = { value, location: layer.file };
        if (!isTable(value)) break;
      } else if (isTable(found.value) && isTable(value)) {
        // A table in a less important file fills keys the more important one lacks.
        found = { value: mergeTables(value, found.value), location: found.location };
      }
    }
    return found ? { key, value: found.value, location: found.location } : { key, value: undefined };
  }
}

const registered: ConfigProvider[] = [];

/**
 * Adds a provider (a vault, a remote store) queried after `config.toml`, as dlt's
 * `register_provider` does. Returns a function that removes it again.
 */
export function registerConfigProvider(provider: ConfigProvider): () => void {
  registered.push(provider);
  return () => {
    const index = registered.indexOf(provider);
    if (index >= 0) registered.splice(index, 1);
  };
}

let activePipelineName: string | undefined;

/**
 * Sets the pipeline whose name prefixes lookups (`<PIPELINE>__SOURCES__...` before `SOURCES__...`).
 * `pipeline()` calls this for the pipeline it creates, as dlt activates its pipeline.
 */
export function setActivePipelineName(name: string | undefined): void {
  activePipelineName = name;
}

/** The active pipeline's name, if a pipeline was activated. */
export function getActivePipelineName(): string | undefined {
  return activePipelineName;
}

/** Options of {@link ConfigContext.create}. */
export interface ConfigContextOptions {
  /** Environment to read variables and folder settings from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Project settings folder. @default `<DLT_PROJECT_DIR or cwd>/<DLT_CONFIG_FOLDER or .dlt>` */
  readonly settingsDir?: string;
  /** Global folder. @default env `DLT_DATA_DIR`, else `~/.dlt` */
  readonly globalDir?: string;
  /** Pipeline name for prefixed lookups; `null` for none. @default the active pipeline's name */
  readonly pipelineName?: string | null;
  /** Providers replacing the built-in ones (tests, embedding). */
  readonly providers?: readonly ConfigProvider[];
}

/**
 * One view of the configuration: the providers in precedence order and the pipeline name used for
 * prefixed lookups. Cheap to create: TOML files are parsed once and cached until they change.
 */
export class ConfigContext {
  readonly providers: readonly ConfigProvider[];
  readonly pipelineName: string | undefined;
  readonly settingsDir: string;
  readonly globalDir: string;

  private constructor(
    providers: readonly ConfigProvider[],
    pipelineName: string | undefined,
    dirs: { settingsDir: string; globalDir: string },
  ) {
    this.providers = providers;
    this.pipelineName = pipelineName;
    this.settingsDir = dirs.settingsDir;
    this.globalDir = dirs.globalDir;
  }

  /** A context over the current environment, project folder and global folder. */
  static create(options: ConfigContextOptions = {}): ConfigContext {
    const env = options.env ?? process.env;
    const settingsDir = resolve(options.settingsDir ?? projectSettingsDir(env));
    const global = resolve(options.globalDir ?? globalDir(env));
    const providers = options.providers ?? [
      new EnvironProvider(env),
      new TomlProvider("secrets.toml", [join(settingsDir, "secrets.toml"), join(global, "secrets.toml")], {
        supportsSecrets: true,
      }),
      new TomlProvider("config.toml", [join(settingsDir, "config.toml"), join(global, "config.toml")], {
        supportsSecrets: false,
      }),
      ...registered,
    ];
    const pipelineName =
      options.pipelineName === null ? undefined : (options.pipelineName ?? activePipelineName);
    return new ConfigContext(providers, pipelineName, { settingsDir, globalDir: global });
  }

  /** The same providers with another pipeline name (`undefined` for no prefixed lookups). */
  withPipelineName(pipelineName: string | undefined): ConfigContext {
    return new ConfigContext(this.providers, pipelineName, {
      settingsDir: this.settingsDir,
      globalDir: this.globalDir,
    });
  }

  /** The provider with the given name. */
  provider(name: string): ConfigProvider | undefined {
    return this.providers.find((p) => p.name === name);
  }
}
