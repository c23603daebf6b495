/**
 * Authentication (dlt `rest_client/auth.py`, REFERENCE §9.5): bearer token, API key in a header or the
 * query, HTTP basic, OAuth2 client credentials (token cached and refreshed before it expires), and any
 * custom hook. Each auth object tells the redactor which values to mask.
 * Not supported: API keys in cookies (`location: "cookie"`), OAuth JWT bearer (`OAuthJWTAuth`).
 */
import { TsdltError } from "@tsdlt/core";
import { Redactor } from "./redact.js";
import type { PreparedRequest } from "./request.js";
import { createSession, type HttpSession } from "./session.js";

/** An auth object: adds credentials to a request just before it is sent. */
export interface AuthBase {
  /** Adds credentials (headers or query parameters) to the request. */
  apply(request: PreparedRequest): void | Promise<void>;
  /** Registers the values and names to mask in errors and logs. */
  registerSecrets?(redactor: Redactor): void;
}

/** A custom auth hook: edits the request (e.g. signs it). */
export type AuthHook = (request: PreparedRequest) => void | Promise<void>;

/** Anything the client accepts as `auth`. */
export type Auth = AuthBase | AuthHook;

function required(value: string | undefined, option: string, auth: string): string {
  if (value === undefined || value === "") {
    throw new TsdltError(`[tsdlt] [rest-client] \`${auth}\` needs \`${option}\`: pass it in the options.`, {
      code: "INVALID_ARGUMENT",
    });
  }
  return value;
}

/** Sends `Authorization: Bearer <token>` (rest_api `type: "bearer"`). */
export class BearerTokenAuth implements AuthBase {
  readonly token: string;
  constructor(options: { readonly token: string }) {
    this.token = required(options.token, "token", "BearerTokenAuth");
  }
  apply(request: PreparedRequest): void {
    request.headers.authorization = `Bearer ${this.token}`;
  }
  registerSecrets(redactor: Redactor): void {
    redactor.addSecret(this.token);
  }
  toString(): string {
    return "BearerTokenAuth(token=***)";
  }
}

/** Where {@link APIKeyAuth} puts the key. `param` is an alias of `query`. */
export type ApiKeyLocation = "header" | "query" | "param";

/** Options of {@link APIKeyAuth}. */
export interface APIKeyAuthOptions {
  /** Header or query parameter name. @default "Authorization" */
  readonly name?: string;
  readonly apiKey: string;
  /** @default "header" */
  readonly location?: ApiKeyLocation | "cookie";
}

/** Sends an API key as a header or a query parameter (rest_api `type: "api_key"`). */
export class APIKeyAuth implements AuthBase {
  readonly name: string;
  readonly apiKey: string;
  readonly location: ApiKeyLocation;
  constructor(options: APIKeyAuthOptions) {
    this.apiKey = required(options.apiKey, "apiKey", "APIKeyAuth");
    this.name = options.name ?? "Authorization";
    const location = options.location ?? "header";
    if (location === "cookie") {
      throw new TsdltError(
        '[tsdlt] [rest-client] `APIKeyAuth` with `location: "cookie"` is not supported; use `header` with `name: "Cookie"`.',
        { code: "NOT_IMPLEMENTED" },
      );
    }
    if (location !== "header" && location !== "query" && location !== "param") {
      throw new TsdltError(
        `[tsdlt] [rest-client] \`APIKeyAuth\` location \`${String(location)}\` is invalid: use \`header\` or \`query\`.`,
        { code: "INVALID_ARGUMENT" },
      );
    }
    this.location = location;
  }
  apply(request: PreparedRequest): void {
    if (this.location === "header") request.headers[this.name] = this.apiKey;
    else request.params[this.name] = this.apiKey;
  }
  registerSecrets(redactor: Redactor): void {
    redactor.addSecret(this.apiKey);
    if (this.location === "header") redactor.addHeader(this.name);
    else redactor.addParam(this.name);
  }
  toString(): string {
    return `APIKeyAuth(name=${this.name}, location=${this.location}, apiKey=***)`;
  }
}

/** Sends `Authorization: Basic base64(user:password)` (rest_api `type: "http_basic"`). */
export class HttpBasicAuth implements AuthBase {
  readonly username: string;
  readonly password: string;
  constructor(options: { readonly username: string; readonly password: string }) {
    this.username = required(options.username, "username", "HttpBasicAuth");
    this.password = options.password ?? "";
  }
  apply(request: PreparedRequest): void {
    request.headers.authorization = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString("base64")}`;
  }
  registerSecrets(redactor: Redactor): void {
    redactor.addSecret(this.password);
    redactor.addSecret(Buffer.from(`${this.username}:${this.password}`).toString("base64"));
  }
  toString(): string {
    return `HttpBasicAuth(username=${this.username}, password=***)`;
  }
}

/** Options of {@link OAuth2ClientCredentials}. */
export interface OAuth2ClientCredentialsOptions {
  /** The token endpoint. */
  readonly accessTokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Extra form fields of the token request (e.g. `scope`, `audience`). */
  readonly accessTokenRequestData?: Readonly<Record<string, string>>;
  /** Token lifetime in seconds when the response has no `expires_in`. @default 3600 */
  readonly defaultTokenExpiration?: number;
  /**
   * Refresh this many milliseconds before the token expires, at most a tenth of its lifetime.
   * @default 60000
   */
  readonly refreshMarginMs?: number;
  /** The session for token requests. @default a retrying session with dlt's defaults */
  readonly session?: HttpSession;
}

/**
 * OAuth2 client credentials grant (rest_api `type: "oauth2_client_credentials"`): POSTs `client_id`,
 * `client_secret` and `grant_type=client_credentials` as a form, caches `access_token` for `expires_in`
 * seconds, refreshes it shortly before it expires, and sends it as a bearer token. Concurrent requests
 * share one token request.
 */
export class OAuth2ClientCredentials implements AuthBase {
  readonly accessTokenUrl: string;
  readonly clientId: string;
  readonly #clientSecret: string;
  readonly #extra: Readonly<Record<string, string>>;
  readonly #defaultExpiration: number;
  readonly #margin: number;
  readonly #session: HttpSession | undefined;
  #token: string | undefined;
  #expiresAt = 0;
  #lifetimeMs = 0;
  #pending: Promise<string> | undefined;

  constructor(options: OAuth2ClientCredentialsOptions) {
    this.accessTokenUrl = required(options.accessTokenUrl, "accessTokenUrl", "OAuth2ClientCredentials");
    this.clientId = required(options.clientId, "clientId", "OAuth2ClientCredentials");
    this.#clientSecret = required(options.clientSecret, "clientSecret", "OAuth2ClientCredentials");
    this.#extra = options.accessTokenRequestData ?? {};
    this.#defaultExpiration = options.defaultTokenExpiration ?? 3600;
    this.#margin = options.refreshMarginMs ?? 60_000;
    this.#session = options.session;
  }

  /** The cached access token, if any. */
  get accessToken(): string | undefined {
    return this.#token;
  }

  /** True when there is no token or it expires within the refresh margin. */
  isTokenExpired(now: number = Date.now()): boolean {
    if (this.#token === undefined) return true;
    const margin = Math.min(this.#margin, this.#lifetimeMs / 10);
    return now >= this.#expiresAt - margin;
  }

  /** A valid token, fetched when missing or about to expire. */
  async obtainToken(): Promise<string> {
    if (!this.isTokenExpired()) return this.#token as string;
    this.#pending ??= this.#fetchToken().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetchToken(): Promise<string> {
    const session = this.#session ?? createSession();
    const started = Date.now();
    const secrets = new Redactor();
    this.registerSecrets(secrets);
    const response = await session.post(this.accessTokenUrl, {
      data: {
        client_id: this.clientId,
        client_secret: this.#clientSecret,
        grant_type: "client_credentials",
        ...this.#extra,
      },
      headers: { "content-type": "application/x-www-form-urlencoded" },
      raiseForStatus: true,
      redactor: secrets,
    });
    const body = response.json<{ access_token?: unknown; expires_in?: unknown }>();
    if (typeof body?.access_token !== "string" || body.access_token === "") {
      throw new TsdltError(
        `[tsdlt] [rest-client] The token endpoint \`${response.redactedUrl}\` returned no \`access_token\`. ` +
          "Check `accessTokenUrl` and the client credentials.",
        { code: "HTTP_REQUEST_FAILED" },
      );
    }
    const expiresIn = Number(body.expires_in ?? this.#defaultExpiration);
    const lifetime =
      (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : this.#defaultExpiration) * 1000;
    this.#token = body.access_token;
    this.#lifetimeMs = lifetime;
    this.#expiresAt = started + lifetime;
    return this.#token;
  }

  async apply(request: PreparedRequest): Promise<void> {
    request.headers.authorization = `Bearer ${await this.obtainToken()}`;
  }

  registerSecrets(redactor: Redactor): void {
    redactor.addSecret(this.#clientSecret);
    redactor.addSecretSource(() => (this.#token === undefined ? [] : [this.#token]));
  }

  toString(): string {
    return `OAuth2ClientCredentials(accessTokenUrl=${this.accessTokenUrl}, clientId=${this.clientId}, clientSecret=***)`;
  }
}
