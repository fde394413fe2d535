// Cloudflare Workers module worker: Mirrorvane's selector (WASM) answering /metalink and /mirrorlist exactly like
// the native edge, plus /healthz. The snapshot comes from, in this order of precedence:
//   SNAPSHOT      a bundled ArrayBuffer (src/bundled.js, or a workerd `data` binding),
//   SNAPSHOT_KV   a KV namespace (key SNAPSHOT_KEY, default "snapshot"),
//   SNAPSHOT_R2   an R2 bucket (key SNAPSHOT_KEY), conditional on its ETag,
//   SNAPSHOT_URL  an http(s) URL, conditional on its ETag (If-None-Match) and cached at the edge.
// Each isolate loads the snapshot on its first request and re-checks the source every REFRESH_SECONDS (60) in the
// background of a request (isolates have no timers between requests): a new snapshot replaces the old one without
// a redeploy; one that does not validate is refused with a logged error and the old one keeps serving.
// Geo comes from request.cf (country, continent, asn); optional GeoIP databases (GEOIP_COUNTRY / GEOIP_ASN as
// bundled bytes, or GEOIP_COUNTRY_KEY / GEOIP_ASN_KEY in the snapshot's KV or R2) are loaded once per isolate and
// fill in what request.cf leaves unknown. The client address comes from CF-Connecting-IP (or the header
// named by CLIENT_IP_HEADER). The access-log line of the native edge goes to console.log (Workers Logs, Logpush,
// `wrangler tail`). TEST_HEADERS (tests only) takes the seed and time from x-test-seed and x-test-now.
// /healthz says `degraded: <why>` (still 200, as the native edge) while the last refresh failed, and with
// MAX_AGE_SECONDS when the snapshot is older than that.
// SNAPSHOT_PUBLIC_KEYS (the lines `mirrorvane keygen` printed, separated by commas or newlines): only snapshots
// signed by one of them are loaded. SNAPSHOT_TOKEN: sent as `Authorization: Bearer` to SNAPSHOT_URL (a backend
// `serve --snapshot-token-file`).
import wasmModule from "../pkg/mirrorvane_wasm_bg.wasm";
import { initSync } from "../pkg/mirrorvane_wasm.js";
import { Mirrorvane, pathOf } from "./mirrorvane.js";

initSync({ module: wasmModule });

export function createWorker({ snapshot } = {}) {
  const state = new Mirrorvane();
  let tag = null; // ETag (or header fingerprint) of the loaded snapshot
  let checkedAt = 0;
  let loading = null;
  let geoTried = false;

  async function refresh(env) {
    if (!geoTried) {
      // Once per isolate: the databases are large and change monthly; a redeploy or new isolate picks up new ones.
      geoTried = true;
      try {
        const geo = await fetchGeo(env);
        if (geo) state.loadGeo(geo);
      } catch (e) {
        console.error(`mirrorvane: GeoIP databases not loaded, using request.cf only: ${e.message}`);
      }
    }
    try {
      state.setPublicKeys(publicKeys(env));
      const got = await fetchSnapshot(env, snapshot, tag);
      if (got && got.tag !== tag) {
        state.load(got.bytes);
        tag = got.tag;
      }
      state.reloadFailed(null);
    } catch (e) {
      state.reloadFailed(e.message);
      console.error(`mirrorvane: snapshot not loaded, ${state.loaded ? "keeping the previous one" : "none yet"}: ${e.message}`);
    }
  }

  return {
    async fetch(request, env, ctx) {
      const now = Date.now();
      const interval = 1000 * Number(env.REFRESH_SECONDS ?? 60);
      if (!state.loaded) {
        // Concurrent first requests share one load.
        loading ??= refresh(env).finally(() => {
          loading = null;
        });
        await loading;
        checkedAt = now;
        if (!state.loaded) return new Response("no snapshot loaded\n", { status: 503 });
      } else if (now - checkedAt >= interval && !snapshot && !env.SNAPSHOT) {
        checkedAt = now;
        ctx.waitUntil(refresh(env));
      }
      if (pathOf(request.url) === "/healthz") {
        const maxAge = env.MAX_AGE_SECONDS === undefined ? undefined : Number(env.MAX_AGE_SECONDS);
        return new Response(state.healthz({ now: now / 1000, maxAge }), { headers: { "content-type": "text/plain" } });
      }
      const cf = request.cf ?? {};
      const ip = request.headers.get(env.CLIENT_IP_HEADER ?? "cf-connecting-ip") ?? "";
      // Tests only (TEST_HEADERS set): the seed and the time from request headers, for byte-for-byte
      // comparisons with the native selector. Never set in production.
      const test = env.TEST_HEADERS ? request.headers : null;
      const a = state.handle(request.url, ip, cf, Number(test?.get("x-test-now") ?? now / 1000), {
        accept: request.headers.get("accept") ?? undefined,
        seed: test?.get("x-test-seed") ?? undefined,
      });
      // The native edge's access-log line, without its newline (console.log adds one).
      if (a.logLine) console.log(a.logLine.slice(0, -1));
      return new Response(a.body, { status: a.status, headers: a.headers });
    },
  };
}

/** `{ bytes, tag }`, or null when the source says the snapshot is unchanged. */
async function fetchSnapshot(env, bundled, tag) {
  const key = env.SNAPSHOT_KEY ?? "snapshot";
  const fixed = bundled ?? env.SNAPSHOT;
  if (fixed) return { bytes: fixed, tag: "bundled" };
  if (env.SNAPSHOT_KV) {
    const bytes = await env.SNAPSHOT_KV.get(key, { type: "arrayBuffer", cacheTtl: 60 });
    if (bytes === null) throw new Error(`KV key ${key} not found`);
    // KV has no ETag; the snapshot header (magic, version, creation time, length, CRC-32) identifies it.
    return { bytes, tag: fingerprint(bytes) };
  }
  if (env.SNAPSHOT_R2) {
    const obj = await env.SNAPSHOT_R2.get(key, tag ? { onlyIf: { etagDoesNotMatch: tag } } : {});
    if (obj === null) throw new Error(`R2 object ${key} not found`);
    if (!("body" in obj)) return null; // precondition failed: unchanged
    // onlyIf takes the bare ETag (obj.etag), not the quoted header form (obj.httpEtag).
    return { bytes: await obj.arrayBuffer(), tag: obj.etag };
  }
  if (env.SNAPSHOT_URL) {
    const headers = tag ? { "if-none-match": tag } : {};
    if (env.SNAPSHOT_TOKEN) headers.authorization = `Bearer ${env.SNAPSHOT_TOKEN}`;
    const r = await fetch(env.SNAPSHOT_URL, {
      headers,
      cf: { cacheTtl: Number(env.REFRESH_SECONDS ?? 60), cacheEverything: true },
    });
    if (r.status === 304) return null;
    if (!r.ok) throw new Error(`${env.SNAPSHOT_URL} answered ${r.status}`);
    const bytes = await r.arrayBuffer();
    return { bytes, tag: r.headers.get("etag") ?? fingerprint(bytes) };
  }
  throw new Error("no snapshot source: bind SNAPSHOT, SNAPSHOT_KV or SNAPSHOT_R2, or set SNAPSHOT_URL");
}

/** `{ country, asn }` bytes from bindings (GEOIP_COUNTRY, GEOIP_ASN) or keys in the snapshot's KV/R2, or null. */
async function fetchGeo(env) {
  const get = async (name) => {
    if (env[name]) return env[name];
    const key = env[`${name}_KEY`];
    if (!key) return undefined;
    if (env.SNAPSHOT_KV) {
      const bytes = await env.SNAPSHOT_KV.get(key, { type: "arrayBuffer" });
      if (bytes === null) throw new Error(`KV key ${key} not found`);
      return bytes;
    }
    if (env.SNAPSHOT_R2) {
      const obj = await env.SNAPSHOT_R2.get(key);
      if (obj === null) throw new Error(`R2 object ${key} not found`);
      return obj.arrayBuffer();
    }
    throw new Error(`${name}_KEY is set but there is no SNAPSHOT_KV or SNAPSHOT_R2 to read it from`);
  };
  const [country, asn] = await Promise.all([get("GEOIP_COUNTRY"), get("GEOIP_ASN")]);
  return country || asn ? { country, asn } : null;
}

function fingerprint(bytes) {
  return Array.from(new Uint8Array(bytes, 0, Math.min(32, bytes.byteLength)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export default createWorker();

/** SNAPSHOT_PUBLIC_KEYS as a list (empty: unsigned snapshots are accepted). */
function publicKeys(env) {
  return String(env.SNAPSHOT_PUBLIC_KEYS ?? "")
    .split(/[,\n]/)
    .map((k) => k.trim())
    .filter((k) => k !== "");
}
