/**
 * Where configuration lives (REFERENCE §8.2, §1.2): the project folder's `.dlt/` and the global
 * folder (`DLT_DATA_DIR`, else `~/.dlt`).
 */
import { accessSync, constants, existsSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The project folder: env `DLT_PROJECT_DIR`, else the current working folder. */
export function projectDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.DLT_PROJECT_DIR || process.cwd());
}

/** Name of the settings folder inside the project: env `DLT_CONFIG_FOLDER`. @default ".dlt" */
export function configFolderName(env: NodeJS.ProcessEnv = process.env): string {
  return env.DLT_CONFIG_FOLDER || ".dlt";
}

/** The project's settings folder holding `config.toml` and `secrets.toml`: `<project>/.dlt`. */
export function projectSettingsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(projectDir(env), configFolderName(env));
}

/**
 * The global folder holding global `config.toml`/`secrets.toml` (and pipelines): env `DLT_DATA_DIR`,
 * else `~/.dlt` (or `$XDG_DATA_HOME/dlt` when that is set and `~/.dlt` does not exist), else
 * `<tmp>/dlt` when the home folder is missing or not writable.
 */
export function globalDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DLT_DATA_DIR) return resolve(env.DLT_DATA_DIR);
  const home = env.HOME || homedir();
  const dotDlt = join(home, ".dlt");
  if (env.XDG_DATA_HOME && !existsSync(dotDlt)) return join(env.XDG_DATA_HOME, "dlt");
  try {
    accessSync(home, constants.W_OK);
    return dotDlt;
  } catch {
    return join(tmpdir(), "dlt");
  }
}
