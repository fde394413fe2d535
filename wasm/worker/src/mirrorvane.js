// The platform-neutral part shared by the Workers module worker and the Node and Deno servers: a loaded snapshot
// and one call into WASM per request. The WASM module must be initialised first (initSync from
// ../pkg/mirrorvane_wasm.js with the module or its bytes); how depends on the platform.
import { GeoDatabases, Selector } from "../pkg/mirrorvane_wasm.js";

// Random seeds are drawn in batches: one crypto.getRandomValues per 256 requests, fresh bits for each request.
const SEED_BATCH = 256;

export class Mirrorvane {
  #selector = null;
  #publicKeys = [];
  #lastError = null;
  #geo = null;
  #seeds = new BigUint64Array(SEED_BATCH);
  #nextSeed = SEED_BATCH;
  /** How many snapshots were loaded (as the native edge's /healthz `generation`). */
  generation = 0;

  /**
   * `publicKeys`: the backend's snapshot keys (`mirrorvane keygen` prints one); when given, only snapshots signed
   * by one of them are loaded, their signature checked before anything is decoded.
   */
  constructor({ publicKeys = [] } = {}) {
    this.setPublicKeys(publicKeys);
  }

  /** Replaces the accepted snapshot keys (for the next load; the loaded snapshot stays). */
  setPublicKeys(publicKeys) {
    this.#publicKeys = [...publicKeys];
  }

  /** Whether a snapshot is loaded. */
  get loaded() {
    return this.#selector !== null;
  }

  /** Creation time of the loaded snapshot, Unix seconds. */
  get created() {
    return this.#selector ? this.#selector.created() : 0;
  }

  /**
   * Decodes and validates snapshot bytes and swaps them in. Throws an Error saying what is wrong; the previous
   * snapshot then keeps serving.
   */
  load(bytes) {
    const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const next = this.#publicKeys.length
      ? Selector.fromSignedSnapshot(view, this.#publicKeys)
      : Selector.fromSnapshot(view);
    if (this.#geo) next.setGeo(this.#geo);
    const previous = this.#selector;
    this.#selector = next;
    this.generation += 1;
    // Calls into WASM are synchronous, so no request is still using the previous one.
    previous?.free();
    return next.created();
  }

  /**
   * Loads GeoIP databases (bytes of whole .mmdb files; either may be missing): a country database (GeoIP2/GeoLite2
   * Country or City, or ip-location-db) and an ASN database (GeoLite2-ASN layout). They are consulted only for what
   * a request's hints leave unknown, and for `ip=` addresses. Throws an Error saying what is wrong.
   */
  loadGeo({ country, asn } = {}) {
    const bytes = (b) => (b === undefined || b === null ? undefined : b instanceof Uint8Array ? b : new Uint8Array(b));
    const geo = new GeoDatabases(bytes(country), bytes(asn));
    const previous = this.#geo;
    this.#geo = geo;
    this.#selector?.setGeo(geo);
    // Selectors hold their own reference to the databases they use.
    previous?.free();
  }

  /**
   * Answers one request: `{ status, headers, body: Uint8Array, logLine }`.
   * `url` is the raw request URL (absolute or origin-form); `hints` the platform's geo for the connecting client
   * (`{ country, continent, asn }`, any may be missing); `seed` (BigInt) makes the shuffle reproducible, by
   * default each request gets fresh random bits from crypto.getRandomValues.
   */
  handle(url, clientIp, hints = {}, nowSeconds = Date.now() / 1000, { seed, accept } = {}) {
    if (this.#selector === null) throw new Error("no snapshot loaded");
    return this.#selector.handle(
      url,
      clientIp,
      text(hints.country),
      text(hints.continent),
      asn(hints.asn),
      nowSeconds,
      seed === undefined ? this.#freshSeed() : BigInt.asUintN(64, BigInt(seed)),
      accept ?? undefined,
    );
  }

  /** A refresh failed (kept for /healthz until a load or check succeeds); `null` clears it. */
  reloadFailed(message) {
    this.#lastError = message;
  }

  /**
   * The native edge's /healthz body: `ok generation=… created=…`, or `degraded: <why>; generation=… created=…`
   * when the last refresh failed or, with `maxAge` (seconds), the snapshot is older than that.
   */
  healthz({ now = Date.now() / 1000, maxAge } = {}) {
    const problems = [];
    const age = Math.max(0, Math.floor(now) - this.created);
    if (maxAge !== undefined && age > maxAge) problems.push(`the snapshot is ${age} s old (more than ${maxAge} s)`);
    if (this.#lastError !== null) problems.push(`the last reload failed: ${this.#lastError}`);
    const status = problems.length ? `degraded: ${problems.join("; ")};` : "ok";
    return `${status} generation=${this.generation} created=${this.created}\n`;
  }

  #freshSeed() {
    if (this.#nextSeed === SEED_BATCH) {
      crypto.getRandomValues(this.#seeds);
      this.#nextSeed = 0;
    }
    return this.#seeds[this.#nextSeed++];
  }
}

// Platforms report unknown geo as undefined, null or "" (and Cloudflare "XX"/"T1" for unknown/Tor, which the
// selector's code parsing keeps: they simply match no country).
function text(v) {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function asn(v) {
  const n = typeof v === "string" ? Number(v) : v;
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}

/** The path of a raw request URL, without parsing the whole URL (a `new URL` per request costs ~1 µs). */
export function pathOf(url) {
  let start = 0;
  const scheme = url.startsWith("/") ? -1 : url.indexOf("://");
  if (scheme >= 0) {
    // The path starts at the first "/", "?" or "#" after the authority.
    start = url.length;
    for (const c of ["/", "?", "#"]) {
      const i = url.indexOf(c, scheme + 3);
      if (i >= 0 && i < start) start = i;
    }
  }
  let end = url.length;
  for (const c of ["?", "#"]) {
    const i = url.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  return url.slice(start, end) || "/";
}
