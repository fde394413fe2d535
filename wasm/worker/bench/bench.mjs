// Per-request time of the WASM selector over a corpus (default build/bench, written by bench/run.sh with the
// Fedora-scale world and the criterion "mixed" request load): in Node in-process, in workerd in-isolate (timed
// from outside, minus an empty run), and over HTTP to the real module worker in workerd (sequential requests,
// client-observed). Compare with the native figure bench/run.sh prints first.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { Mirrorvane } from "../src/mirrorvane.js";
import { initWasm, listeningSocket, relative, loadCorpus, root, start, until, workerdConfig } from "../test/helpers.mjs";

const corpus = loadCorpus(process.argv[2] ?? `${root}build/bench`);
const n = corpus.entries.length;
const requests = corpus.entries.map((e) => ({
  url: `https://mirrors.example${e.target}`,
  ip: e.clientIp,
  hints: { country: e.country ?? undefined, asn: e.asn ?? undefined },
  now: e.now,
  seed: BigInt(e.seed),
}));
const avgBody = corpus.entries.reduce((s, e) => s + Buffer.byteLength(e.expect.body), 0) / n;
console.log(`${n} requests, average answer ${(avgBody / 1024).toFixed(1)} KiB, snapshot ${corpus.snapshot.length} bytes`);
const us = (s) => `${(s * 1e6).toFixed(2)} µs`;

// Node, in-process.
initWasm();
const m = new Mirrorvane();
let t = performance.now();
m.load(corpus.snapshot);
console.log(`Node: Selector.fromSnapshot ${(performance.now() - t).toFixed(1)} ms`);
let best = Infinity;
for (let round = 0; round < 7; round++) {
  t = performance.now();
  for (const q of requests) m.handle(q.url, q.ip, q.hints, q.now, { seed: q.seed });
  best = Math.min(best, (performance.now() - t) / 1000 / n);
}
console.log(`Node in-process: ${us(best)} per request (best of 7 rounds)`);

// workerd.
const dir = mkdtempSync(`${tmpdir()}/mirrorvane-bench-`);
writeFileSync(`${dir}/requests.json`, JSON.stringify(requests.map((q) => ({ ...q, seed: String(q.seed) }))));
writeFileSync(`${dir}/snapshot.bin`, corpus.snapshot);
const config = `${dir}/config.capnp`;
workerdConfig(config, [
  {
    name: "bench",
    bindings: [`(name = "SNAPSHOT", data = embed "snapshot.bin")`],
    modules: [
      `(name = "bench/bench-worker.js", esModule = embed ${JSON.stringify(relative(dir, `${root}bench/bench-worker.js`))})`,
      `(name = "bench/requests.json", json = embed "requests.json")`,
    ],
  },
  { name: "main", bindings: [`(name = "SNAPSHOT", data = embed "snapshot.bin")`, `(name = "TEST_HEADERS", text = "1")`] },
]);
const sockets = [await listeningSocket(), await listeningSocket()];
const [benchPort, mainPort] = sockets.map((s) => s.port);
const workerd = start(`${root}node_modules/.bin/workerd`, ["serve", config, "--socket-fd", "bench=3", "--socket-fd", "main=4"], {
  fds: sockets.map((s) => s.fd),
});
for (const s of sockets) s.server.close();
try {
  await until(async () => (await fetch(`http://127.0.0.1:${benchPort}/?rounds=0`)).ok, 20000, () => workerd.out.stderr);
  const run = async (rounds, mode) => {
    const t0 = performance.now();
    await (await fetch(`http://127.0.0.1:${benchPort}/?rounds=${rounds}&mode=${mode}`)).text();
    return (performance.now() - t0) / 1000;
  };
  for (const mode of ["handle", "response"]) {
    await run(3, mode); // warm-up: JIT and tiering
    let b = Infinity;
    for (let i = 0; i < 5; i++) {
      const empty = await run(0, mode);
      b = Math.min(b, ((await run(10, mode)) - empty) / (10 * n));
    }
    console.log(`workerd in-isolate (${mode === "handle" ? "Selector call" : "call + new Response"}): ${us(b)} per request`);
  }

  // HTTP to the module worker: what a client sees on this machine (client and server share the 2 cores).
  await until(async () => (await fetch(`http://127.0.0.1:${mainPort}/healthz`)).ok, 20000, () => workerd.out.stderr);
  const send = (e) =>
    fetch(`http://127.0.0.1:${mainPort}${e.target}`, {
      headers: {
        "cf-connecting-ip": e.clientIp,
        "x-test-cf": JSON.stringify({ country: e.country ?? undefined, asn: e.asn ?? undefined }),
        "x-test-seed": e.seed,
        "x-test-now": String(e.now),
      },
    }).then((r) => r.arrayBuffer());
  for (const e of corpus.entries.slice(0, 200)) await send(e);
  // Baseline: /healthz makes no WASM call, so this is the HTTP path alone (Node's fetch client included).
  const t0 = performance.now();
  for (let i = 0; i < 500; i++) await fetch(`http://127.0.0.1:${mainPort}/healthz`).then((r) => r.arrayBuffer());
  console.log(`workerd over HTTP, /healthz baseline (sequential): ${us((performance.now() - t0) / 1000 / 500)} per request`);
  const t1 = performance.now();
  for (const e of corpus.entries) await send(e);
  console.log(`workerd over HTTP (sequential, keep-alive, client-observed): ${us((performance.now() - t1) / 1000 / n)} per request`);
  // Throughput with 16 requests in flight (client and workerd share the machine's cores).
  let next = 0;
  const t2 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) await send(corpus.entries[next++]);
    }),
  );
  const seconds = (performance.now() - t2) / 1000;
  console.log(`workerd over HTTP (16 in flight): ${Math.round(n / seconds)} requests/s`);
} finally {
  await workerd.stop();
  rmSync(dir, { recursive: true, force: true });
}
