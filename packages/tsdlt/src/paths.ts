/** Where pipelines keep their working folders (REFERENCE §1.2, `get_dlt_pipelines_dir`). */
import { accessSync, constants, existsSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * The global data dir: env `DLT_DATA_DIR`, else `~/.dlt` (or `$XDG_DATA_HOME/dlt` when that is set and
 * `~/.dlt` does not exist), else `<tmp>/dlt` when the home folder is missing or not writable.
 */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DLT_DATA_DIR) return resolve(env.DLT_DATA_DIR);
  const home = homedir();
  const dotDlt = join(home, ".dlt");
  if (env.XDG_DATA_HOME && !existsSync(dotDlt)) return join(env.XDG_DATA_HOME, "dlt");
  try {
    accessSync(home, constants.W_OK);
    return dotDlt;
  } catch {
    return join(tmpdir(), "dlt");
  }
}

/** Default folder holding one working folder per pipeline: `<data dir>/pipelines`. */
export function defaultPipelinesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), "pipelines");
}

/** Folder that relative destination paths resolve against: env `DLT_LOCAL_DIR` or the cwd. */
export function localDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.DLT_LOCAL_DIR ?? process.cwd());
}
