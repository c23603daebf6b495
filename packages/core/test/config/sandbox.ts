/** A temp project folder and a temp home per test, with the process environment restored afterwards. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { clearProviderValues, clearRegisteredSecrets, setActivePipelineName } from "../../src/index.js";

export interface ConfigSandbox {
  readonly root: string;
  /** The project folder (`DLT_PROJECT_DIR`). */
  readonly project: string;
  /** `<project>/.dlt` */
  readonly settingsDir: string;
  /** The temp home (`HOME`). */
  readonly home: string;
  /** The global folder: `<home>/.dlt`, or `DLT_DATA_DIR` when `dataDir` was asked for. */
  readonly globalDir: string;
  /** Writes `<project>/.dlt/<file>`. */
  writeProject(file: string, content: string): string;
  /** Writes `<global>/<file>`. */
  writeGlobal(file: string, content: string): string;
  /** Sets environment variables for this test (restored by `restore`). */
  setEnv(vars: Record<string, string | undefined>): void;
  restore(): void;
}

/**
 * Creates the sandbox and points the process at it: `DLT_PROJECT_DIR` = the project, `HOME` = the temp
 * home, and `DLT_DATA_DIR` unset (so the global folder is `~/.dlt`) unless `useDataDir` is set. Every
 * variable with `__` in its name is removed for the test, so the runner's environment cannot leak in.
 */
export function createSandbox(options: { useDataDir?: boolean } = {}): ConfigSandbox {
  const root = mkdtempSync(join(tmpdir(), "tsdlt-config-"));
  const project = join(root, "project");
  const home = join(root, "home");
  const dataDir = join(root, "data-dir");
  mkdirSync(project, { recursive: true });
  mkdirSync(home, { recursive: true });
  const settingsDir = join(project, ".dlt");
  const globalDir = options.useDataDir ? dataDir : join(home, ".dlt");
  const saved = new Map<string, string | undefined>();
  const remember = (key: string) => {
    if (!saved.has(key)) saved.set(key, process.env[key]);
  };
  const set = (key: string, value: string | undefined) => {
    remember(key);
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  };
  for (const key of Object.keys(process.env)) {
    if (key.includes("__") || key.startsWith("DLT_")) set(key, undefined);
  }
  set("DLT_PROJECT_DIR", project);
  set("HOME", home);
  set("XDG_DATA_HOME", undefined);
  set("DLT_DATA_DIR", options.useDataDir ? dataDir : undefined);
  const write = (dir: string, file: string, content: string) => {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  };
  return {
    root,
    project,
    settingsDir,
    home,
    globalDir,
    writeProject: (file, content) => write(settingsDir, file, content),
    writeGlobal: (file, content) => write(globalDir, file, content),
    setEnv: (vars) => {
      for (const [key, value] of Object.entries(vars)) set(key, value);
    },
    restore: () => {
      for (const [key, value] of saved) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      clearProviderValues();
      clearRegisteredSecrets();
      setActivePipelineName(undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
