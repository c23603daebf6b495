/**
 * Redaction of secrets before a URL, a header or a response excerpt reaches an error message or a log line
 * (dlt `rest_client/redaction.py`). Three mechanisms: query parameters and headers with sensitive names,
 * user info in URLs, and the literal values of credentials that auth objects register.
 */

/** The mask that replaces a secret. */
export const REDACTED = "***";

/** Query parameter names (lower-case) whose values are always masked. */
export const SENSITIVE_QUERY_PARAMS: readonly string[] = Object.freeze([
  "api_key",
  "apikey",
  "api-key",
  "key",
  "token",
  "access_token",
  "access-token",
  "accesstoken",
  "refresh_token",
  "id_token",
  "auth",
  "auth_token",
  "authorization",
  "client_secret",
  "client-secret",
  "secret",
  "password",
  "passwd",
  "pwd",
  "private_token",
  "signature",
  "sig",
  "session",
  "sessionid",
]);

/** Header names (lower-case) whose values are always masked. */
export const SENSITIVE_HEADERS: readonly string[] = Object.freeze([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "apikey",
  "x-auth-token",
  "x-access-token",
  "private-token",
]);

/** Values shorter than this are not masked by value (they would mask ordinary text). */
const MIN_SECRET_LENGTH = 4;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Masks secrets in URLs, headers and free text. Instances are cheap; auth objects add their secrets. */
export class Redactor {
  readonly #params: Set<string>;
  readonly #headers: Set<string>;
  readonly #secrets = new Set<string>();
  readonly #sources: Array<() => Iterable<string>> = [];

  constructor(options: { params?: Iterable<string>; headers?: Iterable<string> } = {}) {
    this.#params = new Set([
      ...SENSITIVE_QUERY_PARAMS,
      ...[...(options.params ?? [])].map((p) => p.toLowerCase()),
    ]);
    this.#headers = new Set([
      ...SENSITIVE_HEADERS,
      ...[...(options.headers ?? [])].map((h) => h.toLowerCase()),
    ]);
  }

  /** Masks the values of this query parameter from now on. */
  addParam(name: string): this {
    this.#params.add(name.toLowerCase());
    return this;
  }

  /** Masks the values of this header from now on. */
  addHeader(name: string): this {
    this.#headers.add(name.toLowerCase());
    return this;
  }

  /** Masks this literal value wherever it appears. */
  addSecret(value: string | undefined | null): this {
    if (typeof value === "string" && value.length >= MIN_SECRET_LENGTH) this.#secrets.add(value);
    return this;
  }

  /** Masks the values a callback returns at redaction time (e.g. an OAuth2 token that is refreshed). */
  addSecretSource(source: () => Iterable<string>): this {
    this.#sources.push(source);
    return this;
  }

  /** A redactor with the rules of this one and of `other`. */
  merge(other: Redactor | undefined): Redactor {
    const merged = new Redactor({ params: this.#params, headers: this.#headers });
    for (const secret of this.#secrets) merged.addSecret(secret);
    for (const source of this.#sources) merged.addSecretSource(source);
    if (other) {
      for (const p of other.#params) merged.addParam(p);
      for (const h of other.#headers) merged.addHeader(h);
      for (const s of other.#secrets) merged.addSecret(s);
      for (const source of other.#sources) merged.addSecretSource(source);
    }
    return merged;
  }

  #allSecrets(): string[] {
    const all = new Set(this.#secrets);
    for (const source of this.#sources) {
      for (const value of source()) if (value.length >= MIN_SECRET_LENGTH) all.add(value);
    }
    // Longest first, so a secret that contains another is masked whole.
    return [...all].sort((a, b) => b.length - a.length);
  }

  /** True when a query parameter of this name is masked. */
  isSensitiveParam(name: string): boolean {
    return this.#params.has(name.toLowerCase());
  }

  /** True when a header of this name is masked. */
  isSensitiveHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  /** The URL with user info, sensitive query parameters and known secret values masked. */
  url(url: string): string {
    let out = url;
    try {
      const parsed = new URL(url);
      let changed = false;
      if (parsed.username || parsed.password) {
        parsed.username = parsed.username ? REDACTED : "";
        parsed.password = parsed.password ? REDACTED : "";
        changed = true;
      }
      if (parsed.search) {
        const params = new URLSearchParams(parsed.search);
        let maskedAny = false;
        const rebuilt = new URLSearchParams();
        for (const [name, value] of params) {
          const mask = this.isSensitiveParam(name);
          maskedAny ||= mask;
          rebuilt.append(name, mask ? REDACTED : value);
        }
        if (maskedAny) {
          // URLSearchParams would percent-encode the mask; keep it readable.
          parsed.search = rebuilt.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED);
          changed = true;
        }
      }
      if (changed) out = parsed.href;
    } catch {
      out = this.#maskQueryInText(url);
    }
    return this.#maskSecrets(out);
  }

  /** A copy of the headers with sensitive values masked. */
  headers(headers: Readonly<Record<string, string>> | Headers): Record<string, string> {
    const out: Record<string, string> = {};
    const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
    for (const [name, value] of entries) {
      out[name] = this.isSensitiveHeader(name) ? REDACTED : this.#maskSecrets(value);
    }
    return out;
  }

  /** Free text (a response excerpt, an error message) with known secrets and URL query secrets masked. */
  text(text: string): string {
    return this.#maskSecrets(this.#maskQueryInText(text));
  }

  #maskQueryInText(text: string): string {
    return text.replace(/([?&])([^=&#\s"'<>]+)=([^&#\s"'<>]*)/g, (match, sep: string, name: string) =>
      this.isSensitiveParam(decodeURIComponentSafe(name)) ? `${sep}${name}=${REDACTED}` : match,
    );
  }

  #maskSecrets(text: string): string {
    let out = text;
    for (const secret of this.#allSecrets()) {
      if (!out.includes(secret) && !out.includes(encodeURIComponent(secret))) continue;
      out = out.replace(new RegExp(escapeRegExp(secret), "g"), REDACTED);
      out = out.replace(new RegExp(escapeRegExp(encodeURIComponent(secret)), "g"), REDACTED);
    }
    return out;
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const DEFAULT_REDACTOR = new Redactor();

/** Masks user info and sensitive query parameters (`api_key`, `token`, …) of a URL. */
export function redactUrl(url: string, redactor: Redactor = DEFAULT_REDACTOR): string {
  return redactor.url(url);
}

/** Masks sensitive headers (`Authorization`, `Cookie`, `X-API-Key`, …). */
export function redactHeaders(
  headers: Readonly<Record<string, string>> | Headers,
  redactor: Redactor = DEFAULT_REDACTOR,
): Record<string, string> {
  return redactor.headers(headers);
}
