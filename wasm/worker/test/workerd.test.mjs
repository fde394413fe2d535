// The module worker in real workerd (npm package `workerd`), on 127.0.0.1 sockets the OS picked: the differential
// corpus over HTTP with geo as request.cf (workerd's cfBlobHeader) and the seed and time in test headers, the access-log lines on workerd's output, and
// a snapshot served by URL that is refreshed (ETag), refused when corrupt, and replaced without a restart.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { after, before, test } from "node:test";
import { listeningSocket, relative, loadCorpus, root, sameAnswer, start, until, workerdConfig } from "./helpers.mjs";

const corpus = loadCorpus();
const next = readFileSync(`${corpus.dir}/snapshot-next.bin`);
const dir = mkdtempSync(`${tmpdir()}/mirrorvane-workerd-`);

// The snapshot origin for the URL-source service: serves `current` with an ETag, answers 304 when it matches.
const origin = { current: corpus.snapshot, etag: '"a"', conditional: 0, notModified: 0 };
const originServer = http.createServer((req, res) => {
  if (req.headers["if-none-match"]) origin.conditional++;
  if (req.headers["if-none-match"] === origin.etag) {
    origin.notModified++;
    res.writeHead(304).end();
    return;
  }
  res.writeHead(200, { etag: origin.etag, "content-type": "application/octet-stream" }).end(origin.current);
});

// The signed-snapshot origin: what a backend `serve --snapshot-token-file` publishes; it records the token sent.
const signedOrigin = { current: corpus.snapshot, etag: '"unsigned"', authorization: null };
const signedServer = http.createServer((req, res) => {
  signedOrigin.authorization = req.headers.authorization ?? null;
  if (req.headers.authorization !== "Bearer t0ken") {
    res.writeHead(401).end();
    return;
  }
  if (req.headers["if-none-match"] === signedOrigin.etag) {
    res.writeHead(304).end();
    return;
  }
  res.writeHead(200, { etag: signedOrigin.etag }).end(signedOrigin.current);
});

let workerd, mainPort, geoPort, bundledPort, urlPort, signedPort, sockets;

before(async () => {
  await new Promise((r) => originServer.listen(0, "127.0.0.1", r));
  await new Promise((r) => signedServer.listen(0, "127.0.0.1", r));
  const signedUrl = `http://127.0.0.1:${signedServer.address().port}/snapshot`;
  const snapshotUrl = `http://127.0.0.1:${originServer.address().port}/snapshot`;
  const config = `${dir}/config.capnp`;
  workerdConfig(config, [
    {
      name: "main",
      bindings: [
        `(name = "SNAPSHOT", data = embed ${JSON.stringify(relative(dir, `${corpus.dir}/snapshot.bin`))})`,
        `(name = "TEST_HEADERS", text = "1")`,
      ],
    },
    {
      name: "geo",
      bindings: [
        `(name = "SNAPSHOT", data = embed ${JSON.stringify(relative(dir, `${corpus.dir}/snapshot.bin`))})`,
        `(name = "GEOIP_COUNTRY", data = embed ${JSON.stringify(relative(dir, corpus.geo.country))})`,
        `(name = "GEOIP_ASN", data = embed ${JSON.stringify(relative(dir, corpus.geo.asn))})`,
        `(name = "TEST_HEADERS", text = "1")`,
      ],
    },
    {
      // src/bundled.js: the snapshot imported as a module, as wrangler bundles it with a Data rule.
      name: "bundled",
      bindings: [`(name = "TEST_HEADERS", text = "1")`],
      modules: [
        `(name = "src/bundled.js", esModule = embed ${JSON.stringify(relative(dir, `${root}src/bundled.js`))})`,
        `(name = "src/worker.js", esModule = embed ${JSON.stringify(relative(dir, `${root}src/worker.js`))})`,
        `(name = "snapshot.bin", data = embed ${JSON.stringify(relative(dir, `${corpus.dir}/snapshot.bin`))})`,
      ],
    },
    {
      name: "byurl",
      bindings: [`(name = "TEST_HEADERS", text = "1")`, `(name = "SNAPSHOT_URL", text = ${JSON.stringify(snapshotUrl)})`, `(name = "REFRESH_SECONDS", text = "1")`],
    },
    {
      name: "signed",
      bindings: [
        `(name = "SNAPSHOT_URL", text = ${JSON.stringify(signedUrl)})`,
        `(name = "SNAPSHOT_TOKEN", text = "t0ken")`,
        `(name = "SNAPSHOT_PUBLIC_KEYS", text = ${JSON.stringify(`mirrorvane-snapshot-key ${Buffer.alloc(32, 9).toString("base64")},\n${corpus.publicKey}`)})`,
        `(name = "REFRESH_SECONDS", text = "1")`,
      ],
    },
  ]);
  sockets = await Promise.all([0, 1, 2, 3, 4].map(() => listeningSocket()));
  [mainPort, geoPort, bundledPort, urlPort, signedPort] = sockets.map((s) => s.port);
  const fds = ["main=3", "geo=4", "bundled=5", "byurl=6", "signed=7"].flatMap((f) => ["--socket-fd", f]);
  workerd = start(`${root}node_modules/.bin/workerd`, ["serve", config, ...fds], {
    fds: sockets.map((s) => s.fd),
  });
  // workerd has its own copies of the listening sockets now.
  for (const s of sockets) s.server.close();
  await until(async () => (await fetch(`http://127.0.0.1:${mainPort}/healthz`)).ok, 20000, () => workerd.out.stderr, workerd.child);
});

after(async () => {
  await workerd?.stop();
  originServer.close();
  signedServer.close();
  rmSync(dir, { recursive: true, force: true });
});

function send(port, e) {
  const headers = { "cf-connecting-ip": e.clientIp };
  const cf = {};
  for (const k of ["country", "continent", "asn"]) if (e[k] !== null) cf[k] = e[k];
  headers["x-test-cf"] = JSON.stringify(cf);
  if (e.accept) headers.accept = e.accept;
  if (e.seed !== null) headers["x-test-seed"] = e.seed;
  headers["x-test-now"] = String(e.now);
  return fetch(`http://127.0.0.1:${port}${e.target}`, { headers, redirect: "manual" });
}

test("workerd answers the corpus byte for byte like the native selector", async () => {
  // Entries answered natively with the GeoIP test databases go to the worker that has them as bindings.
  for (const e of corpus.entries) await sameAnswer(assert, await send(e.geoDb ? geoPort : mainPort, e), e.expect, e.name);
});

test("without the test seed header each request gets fresh randomness", async () => {
  const e = corpus.entries.find((x) => x.name === "continent_de_mirrorlist");
  const bodies = new Set();
  for (let i = 0; i < 8; i++) bodies.add(await (await send(mainPort, { ...e, seed: null })).text());
  assert.ok(bodies.size > 1, "eight unseeded answers were identical");
});

test("the access-log line of the native edge is on workerd's log", async () => {
  const logged = corpus.entries.filter((e) => e.expect.logLine);
  assert.ok(logged.length > 20);
  await until(() => logged.every((e) => workerd.out.stdout.includes(e.expect.logLine)), 5000, () => {
    const missing = logged.find((e) => !workerd.out.stdout.includes(e.expect.logLine));
    return `missing ${JSON.stringify(missing.expect.logLine)} in:\n${workerd.out.stdout.slice(-2000)}`;
  });
});

test("the bundled entry point (src/bundled.js) serves its imported snapshot", async () => {
  const res = await fetch(`http://127.0.0.1:${bundledPort}/healthz`);
  assert.equal(await res.text(), `ok generation=1 created=${corpus.created}\n`);
  for (const e of corpus.entries.filter((x) => !x.geoDb).slice(0, 12)) {
    await sameAnswer(assert, await send(bundledPort, e), e.expect, e.name);
  }
});

test("/healthz like the native edge", async () => {
  const res = await fetch(`http://127.0.0.1:${mainPort}/healthz`);
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(await res.text(), `ok generation=1 created=${corpus.created}\n`);
});

test("a URL snapshot is refreshed by ETag, a corrupt one refused, a new one swapped in", async () => {
  const healthz = async () => (await fetch(`http://127.0.0.1:${urlPort}/healthz`)).text();
  assert.equal(await healthz(), `ok generation=1 created=${corpus.created}\n`);
  const nextCreated = Number(new DataView(next.buffer, next.byteOffset).getBigUint64(12, true));
  assert.notEqual(nextCreated, corpus.created);

  // Unchanged: conditional requests answered 304.
  await until(async () => (await healthz(), origin.notModified >= 1), 8000, () => `${origin.notModified} not modified`);

  origin.current = Buffer.from(next).subarray(0, next.length - 7);
  origin.etag = '"corrupt"';
  // Refreshes run in the background of requests (isolates have no timers), so keep asking.
  const refused = async () => (await healthz(), `${workerd.out.stdout}${workerd.out.stderr}`.includes("keeping the previous one"));
  await until(refused, 8000, () => `${origin.etag}: ${workerd.out.stderr.slice(-2000)}`);
  const degraded = await healthz();
  assert.ok(degraded.startsWith("degraded: the last reload failed: ") && degraded.endsWith(`; generation=1 created=${corpus.created}\n`), degraded);
  const e = corpus.entries.find((x) => x.name === "repo_unknown");
  await sameAnswer(assert, await send(urlPort, e), e.expect, "still serving");

  origin.current = next;
  origin.etag = '"b"';
  let last = "";
  await until(async () => (last = await healthz()) === `ok generation=2 created=${nextCreated}\n`, 8000, () => last);
  assert.ok(origin.conditional >= 2);
});


test("with SNAPSHOT_PUBLIC_KEYS only signed snapshots load; SNAPSHOT_TOKEN is sent", async () => {
  const healthz = async () => {
    const res = await fetch(`http://127.0.0.1:${signedPort}/healthz`);
    return `${res.status} ${await res.text()}`;
  };
  // Unsigned: refused, nothing to serve yet.
  const logged = () => `${workerd.out.stdout}${workerd.out.stderr}`;
  await until(async () => (await healthz(), logged().includes("not signed")), 8000, () => logged().slice(-2000));
  assert.equal(signedOrigin.authorization, "Bearer t0ken");
  assert.match(await healthz(), /^503 /);
  // Signed by the backend's key (the second of the two accepted): loaded.
  signedOrigin.current = readFileSync(`${corpus.dir}/snapshot-signed.bin`);
  signedOrigin.etag = '"signed"';
  let last = "";
  await until(async () => (last = await healthz()) === `200 ok generation=1 created=${corpus.created + 3600}\n`, 8000, () => last);
});
