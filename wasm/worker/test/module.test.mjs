// The WASM module in Node, in-process: the differential corpus must give the native selector's bytes, and bad
// input must come back as JS errors or answers, never as a trap.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { GeoDatabases, Selector } from "../pkg/mirrorvane_wasm.js";
import { Mirrorvane, pathOf } from "../src/mirrorvane.js";
import { initWasm, loadCorpus } from "./helpers.mjs";

initWasm();
const corpus = loadCorpus();

test("the corpus covers what the differential test promises", () => {
  const names = corpus.entries.map((e) => e.name);
  for (const n of ["netblock", "asn", "geoip_country_us", "continent_de", "global_fallback", "requested_country_fr", "geoip_db_89.160.20.112"]) {
    assert.ok(names.includes(`${n}_metalink`) && names.includes(`${n}_mirrorlist`), n);
  }
  const statuses = new Set(corpus.entries.map((e) => e.expect.status));
  assert.deepEqual([...statuses].sort(), [200, 302, 404, 500]);
  const types = new Set(corpus.entries.map((e) => e.expect.headers["content-type"]));
  for (const t of ["text/plain", "application/metalink+xml", "application/metalink4+xml", "application/json"]) {
    assert.ok(types.has(t), t);
  }
  assert.ok(corpus.entries.some((e) => e.expect.logLine !== ""));
});

test("WASM in Node answers the corpus byte for byte like the native selector", () => {
  const plain = Selector.fromSnapshot(corpus.snapshot);
  assert.equal(plain.created(), corpus.created);
  // The same snapshot with the GeoIP test databases, for the entries the native edge answered with them.
  const geo = new GeoDatabases(readFileSync(corpus.geo.country), readFileSync(corpus.geo.asn));
  const withGeo = Selector.fromSnapshot(corpus.snapshot);
  withGeo.setGeo(geo);
  geo.free(); // the selector keeps its own reference
  assert.ok(corpus.entries.filter((e) => e.geoDb).length >= 10);
  corpus.entries.forEach((e, i) => {
    const selector = e.geoDb ? withGeo : plain;
    // Absolute (Workers, Deno) and origin-form (Node) URLs alike.
    const url = i % 2 ? `https://mirrors.example${e.target}` : e.target;
    const a = selector.handle(url, e.clientIp, e.country ?? undefined, e.continent ?? undefined, e.asn ?? undefined,
      e.now, BigInt(e.seed), e.accept ?? undefined);
    assert.equal(a.status, e.expect.status, e.name);
    assert.deepEqual({ ...a.headers }, e.expect.headers, e.name);
    assert.ok(a.body instanceof Uint8Array, e.name);
    assert.equal(Buffer.from(a.body).toString("utf8"), e.expect.body, e.name);
    assert.ok(Buffer.from(a.body).equals(Buffer.from(e.expect.body, "utf8")), e.name);
    assert.equal(a.logLine, e.expect.logLine, e.name);
  });
  plain.free();
  withGeo.free();
});

test("signed snapshots: accepted with the backend's key, refused unsigned, tampered or by another key", () => {
  const ok = Selector.fromSignedSnapshot(corpus.signed, [corpus.publicKey]);
  assert.equal(ok.created(), corpus.created + 3600);
  ok.free();
  const refused = (bytes, keys, pattern) =>
    assert.throws(() => Selector.fromSignedSnapshot(bytes, keys),
      (err) => err instanceof Error && !(err instanceof WebAssembly.RuntimeError) && pattern.test(err.message));
  refused(corpus.snapshot, [corpus.publicKey], /^snapshot refused: the snapshot is not signed/);
  // Other content (its own CRC valid) under the signed one's trailer.
  const trailer = corpus.signed.subarray(corpus.signed.length - 104);
  refused(Buffer.concat([corpus.snapshot, trailer]), [corpus.publicKey], /does not match its content/);
  const other = "mirrorvane-snapshot-key " + Buffer.alloc(32, 9).toString("base64");
  refused(corpus.signed, [other], /not one of the accepted keys/);
  refused(corpus.signed, ["not a key"], /^public key refused/);
  refused(corpus.signed, [], /at least one public key/);
  // Through the shared module: a Mirrorvane with keys loads only signed snapshots.
  const state = new Mirrorvane({ publicKeys: [corpus.publicKey] });
  assert.throws(() => state.load(corpus.snapshot), /not signed/);
  assert.equal(state.loaded, false);
  assert.equal(state.load(corpus.signed), corpus.created + 3600);
});

test("GeoIP databases that are corrupt or of the wrong kind are clear Errors", () => {
  const country = readFileSync(corpus.geo.country);
  const asn = readFileSync(corpus.geo.asn);
  const refused = (c, a, pattern) =>
    assert.throws(() => new GeoDatabases(c, a), (err) => err instanceof Error && !(err instanceof WebAssembly.RuntimeError) && pattern.test(err.message));
  refused(new Uint8Array(100), undefined, /^GeoIP refused: country database: not a valid MaxMind DB/);
  refused(country.subarray(0, country.length - 40), undefined, /^GeoIP refused: country database: not a valid/);
  refused(asn, undefined, /^GeoIP refused: country database \(GeoLite2-ASN\) has no country data/);
  refused(undefined, country, /^GeoIP refused: ASN database \(GeoIP2-Country\) has no ASN data/);
  // Every other truncation point of the country file: refused or usable, never a trap.
  for (let cut = 64; cut < country.length; cut += 97) {
    try {
      new GeoDatabases(country.subarray(0, cut), undefined).free();
    } catch (err) {
      assert.ok(!(err instanceof WebAssembly.RuntimeError), `cut at ${cut}: ${err}`);
    }
  }
  const m = new Mirrorvane();
  m.load(corpus.snapshot);
  m.loadGeo({ country, asn });
  const e = corpus.entries.find((x) => x.geoDb && x.name.endsWith("_mirrorlist"));
  const a = m.handle(e.target, e.clientIp, {}, e.now, { seed: e.seed });
  assert.equal(Buffer.from(a.body).toString(), e.expect.body, "loadGeo before a reload");
  m.load(corpus.snapshot); // databases carry over to the next snapshot
  const b = m.handle(e.target, e.clientIp, {}, e.now, { seed: e.seed });
  assert.equal(Buffer.from(b.body).toString(), e.expect.body, "after a reload");
});

test("the seed decides the order; without one each request gets fresh randomness", () => {
  const m = new Mirrorvane();
  m.load(corpus.snapshot);
  const e = corpus.entries.find((x) => x.name === "continent_de_mirrorlist");
  const hints = { country: e.country, asn: e.asn };
  const body = (seed) => Buffer.from(m.handle(e.target, e.clientIp, hints, e.now, { seed }).body).toString();
  assert.equal(body(BigInt(e.seed)), e.expect.body);
  assert.equal(body(e.seed), e.expect.body); // decimal string accepted too
  const unseeded = new Set(Array.from({ length: 8 }, () => body(undefined)));
  assert.ok(unseeded.size > 1, "eight unseeded answers were identical");
});

test("a corrupt snapshot is a clear Error, and the module keeps working", () => {
  const bytes = new Uint8Array(corpus.snapshot);
  const cases = [
    new Uint8Array(0),
    bytes.slice(0, 10),
    bytes.slice(0, bytes.length - 1),
    Uint8Array.from(bytes, (b, i) => (i === 0 ? b ^ 0xff : b)),
    Uint8Array.from(bytes, (b, i) => (i === 40 ? b ^ 1 : b)),
  ];
  // Flipped bytes across the header and payload (deterministic positions).
  for (let k = 1; k <= 40; k++) {
    const i = Math.floor((k * 2654435761) % bytes.length);
    cases.push(Uint8Array.from(bytes, (b, j) => (j === i ? b ^ 0x5a : b)));
  }
  for (const c of cases) {
    assert.throws(
      () => Selector.fromSnapshot(c),
      (err) => err instanceof Error && !(err instanceof WebAssembly.RuntimeError) && /^snapshot refused: /.test(err.message),
    );
  }
  const m = new Mirrorvane();
  m.load(corpus.snapshot);
  assert.throws(() => m.load(bytes.slice(0, 100)), /snapshot refused: /);
  assert.equal(m.generation, 1, "a refused snapshot does not count");
  const e = corpus.entries[0];
  const a = m.handle(e.target, e.clientIp, { country: e.country, asn: e.asn }, e.now, { seed: e.seed });
  assert.equal(Buffer.from(a.body).toString(), e.expect.body);
});

test("odd arguments are answers, not traps", () => {
  const selector = Selector.fromSnapshot(corpus.snapshot);
  const odd = [
    ["", "", undefined, undefined, undefined, NaN, 0n, undefined],
    ["/metalink?repo=\u00e9&arch=\u{1F600}", "::ffff:1.2.3.4", "\u00e9\u00e9", "", 4294967295, -5, 2n ** 64n - 1n, "\u0000"],
    ["https://x/mirrorlist?path=" + "/".repeat(10000), "1.2.3.4", "zz", "ZZZ", 0, 1e300, 1n, "application/metalink4+xml;q=2"],
  ];
  for (const args of odd) {
    const a = selector.handle(...args);
    assert.ok([200, 302, 404, 500].includes(a.status), JSON.stringify(a.status));
  }
  selector.free();
});

test("pathOf finds the path without parsing the URL", () => {
  assert.equal(pathOf("https://h.example/healthz"), "/healthz");
  assert.equal(pathOf("https://h.example/healthz?x=1#f"), "/healthz");
  assert.equal(pathOf("/healthz?x"), "/healthz");
  assert.equal(pathOf("https://h.example?x"), "/");
  assert.equal(pathOf("https://h.example?x=/healthz"), "/");
  assert.equal(pathOf("https://h.example/mirrorlist?u=http://a/healthz"), "/mirrorlist");
});

test("/healthz says degraded after a failed reload and, with maxAge, for an old snapshot", () => {
  const state = new Mirrorvane();
  state.load(corpus.snapshot);
  const ok = `ok generation=1 created=${corpus.created}\n`;
  assert.equal(state.healthz({ now: corpus.created + 10 }), ok);
  assert.equal(state.healthz({ now: corpus.created + 10, maxAge: 3600 }), ok);
  assert.equal(
    state.healthz({ now: corpus.created + 7200, maxAge: 3600 }),
    `degraded: the snapshot is 7200 s old (more than 3600 s); generation=1 created=${corpus.created}\n`,
  );
  state.reloadFailed("https://backend/snapshot answered 503");
  assert.equal(
    state.healthz({ now: corpus.created }),
    `degraded: the last reload failed: https://backend/snapshot answered 503; generation=1 created=${corpus.created}\n`,
  );
  state.reloadFailed(null);
  assert.equal(state.healthz({ now: corpus.created }), ok);
});
