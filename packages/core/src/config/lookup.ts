/**
 * Section resolution (REFERENCE §8.3) and the provider walk (§8.2): for each provider in order, a key
 * is tried at decreasing section depth (the rightmost section dropped each time, embedded sections
 * kept); lookups prefixed with the active pipeline's name go first across all providers.
 */
import { ConfigValueNotSecretError } from "./config-errors.js";
import type { ConfigContext, ConfigProvider } from "./providers.js";

/** One key tried in one provider. */
export interface LookupTrace {
  /** Provider name (`Environment Variables`, `secrets.toml`, `config.toml`). */
  readonly provider: string;
  /** Key in the provider's spelling. */
  readonly key: string;
  /** Whether the provider held a value at the key. */
  readonly found: boolean;
  /** File the value was found in. */
  readonly location?: string | undefined;
  /** Why a value found at the key was not used (e.g. credentials without this field). */
  readonly note?: string | undefined;
}

/**
 * The section paths tried for `key`, most specific first, without the pipeline prefix. Sections are
 * dropped from the right; `embedded` sections (such as `credentials`) are kept. For a source spec
 * (`["sources", <section>, <name>]` with section ≠ name) the compact path `sources.<name>.<key>` is
 * tried right after `sources.<section>.<key>`.
 *
 * @example
 * ```ts
 * sectionLookupPaths(["destination", "postgres"], ["credentials"], "password");
 * // [["destination","postgres","credentials","password"], ["destination","credentials","password"], ["credentials","password"]]
 * ```
 */
export function sectionLookupPaths(
  sections: readonly string[],
  embedded: readonly string[],
  key: string,
): string[][] {
  const out: string[][] = [];
  const ns = [...sections];
  const compact =
    sections.length === 3 && sections[0] === "sources" && sections[1] !== sections[2]
      ? ["sources", sections[2] as string, ...embedded, key]
      : undefined;
  for (;;) {
    out.push([...ns, ...embedded, key]);
    if (compact && ns.length === 2) out.push(compact);
    if (ns.length === 0) break;
    ns.pop();
  }
  return out;
}

/** What a probe makes of a raw value found at one of its paths. */
export interface ProbeExtraction {
  /** The field's value; `undefined` when the raw value does not provide it. */
  readonly value: unknown;
  readonly note?: string;
}

/** A set of paths to try and how to read the field from what is found there. */
export interface LookupProbe {
  readonly paths: readonly (readonly string[])[];
  /** Reads the field from a raw value found at one of the paths. @default the raw value itself */
  readonly extract?: (raw: unknown) => ProbeExtraction;
  /** Whether a value found this way is a secret (refused from providers without secret support). */
  readonly secret: (raw: unknown) => boolean;
}

/** Outcome of {@link lookupField}. */
export interface LookupOutcome {
  readonly found: boolean;
  readonly value: unknown;
  /** The raw value at the winning key (a whole connection string when the field came from one). */
  readonly raw: unknown;
  readonly provider?: string | undefined;
  readonly providerKey?: string | undefined;
  readonly location?: string | undefined;
  /** Whether the winning probe's value is a secret. */
  readonly secret: boolean;
  readonly traces: readonly LookupTrace[];
}

/** Options of {@link lookupField}. */
export interface LookupFieldOptions {
  /** Field label for messages (`access_token`, `credentials.password`). */
  readonly field: string;
  /** Only these providers are asked (e.g. the secret-capable ones). @default all */
  readonly providers?: readonly ConfigProvider[];
  /** Skip pipeline-prefixed lookups even when the context has a pipeline name. */
  readonly noPipelinePrefix?: boolean;
}

/**
 * Asks the providers for a field: pipeline-prefixed paths first (across all providers), then
 * unprefixed; within a pass, provider by provider, probe by probe, path by path. Empty providers are
 * skipped (and not traced). A secret found in a provider that may not hold secrets is refused with
 * {@link ConfigValueNotSecretError}.
 */
export function lookupField(
  context: ConfigContext,
  probes: readonly LookupProbe[],
  options: LookupFieldOptions,
): LookupOutcome {
  const traces: LookupTrace[] = [];
  const providers = options.providers ?? context.providers;
  const prefixes =
    context.pipelineName && !options.noPipelinePrefix ? [context.pipelineName, undefined] : [undefined];
  for (const prefix of prefixes) {
    for (const provider of providers) {
      if (provider.isEmpty) continue;
      if (prefix !== undefined && !provider.supportsSections) continue;
      for (const probe of probes) {
        const paths = provider.supportsSections ? probe.paths : probe.paths.slice(-1);
        for (const path of paths) {
          const full = prefix === undefined ? path : [prefix, ...path];
          const result = provider.lookup(full);
          if (result.value === undefined) {
            traces.push({ provider: provider.name, key: result.key, found: false });
            continue;
          }
          const extracted = probe.extract ? probe.extract(result.value) : { value: result.value };
          if (extracted.value === undefined) {
            traces.push({
              provider: provider.name,
              key: result.key,
              found: true,
              location: result.location,
              note: extracted.note,
            });
            continue;
          }
          traces.push({ provider: provider.name, key: result.key, found: true, location: result.location });
          const isSecret = probe.secret(result.value);
          if (isSecret && !provider.supportsSecrets) {
            throw new ConfigValueNotSecretError({
              field: options.field,
              provider: provider.name,
              key: result.key,
              location: result.location,
              path: full,
              context,
            });
          }
          return {
            found: true,
            value: extracted.value,
            raw: result.value,
            provider: provider.name,
            providerKey: result.key,
            location: result.location,
            secret: isSecret,
            traces,
          };
        }
      }
    }
  }
  return { found: false, value: undefined, raw: undefined, secret: false, traces };
}
