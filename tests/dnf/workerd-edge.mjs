// The WASM worker (wasm/worker/src/worker.js) in real workerd as an edge for tests/dnf/chain.sh: it polls a
// backend's /snapshot (SNAPSHOT_URL, with the edges' token, accepting only snapshots signed by the given key),
// exactly as a Cloudflare Workers deployment does. In front of it, what Cloudflare's network adds: the client's
// address as `CF-Connecting-IP` (a Node HTTP front on a 127.0.0.1 port the OS picks, forwarding to workerd on
// another). Prints `Listening on http://127.0.0.1:PORT` (the front) once workerd answers /healthz; workerd's
// output follows on ours; SIGTERM stops both.
// Usage: node workerd-edge.mjs --snapshot-url URL --public-key-file FILE --token-file FILE --dir WORKDIR
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";
import { listeningSocket, root, workerdConfig } from "../../wasm/worker/test/helpers.mjs";

const { values: a } = parseArgs({
  options: {
    "snapshot-url": { type: "string" },
    "public-key-file": { type: "string" },
    "token-file": { type: "string" },
    dir: { type: "string" },
  },
});
for (const k of ["snapshot-url", "public-key-file", "token-file", "dir"]) {
  if (!a[k]) throw new Error(`--${k} is required`);
}
mkdirSync(a.dir, { recursive: true });
const text = (v) => JSON.stringify(v);
const config = `${a.dir}/config.capnp`;
workerdConfig(config, [
  {
    name: "edge",
    bindings: [
      `(name = "SNAPSHOT_URL", text = ${text(a["snapshot-url"])})`,
      `(name = "SNAPSHOT_TOKEN", text = ${text(readFileSync(a["token-file"], "utf8").split("\n")[0])})`,
      `(name = "SNAPSHOT_PUBLIC_KEYS", text = ${text(readFileSync(a["public-key-file"], "utf8").trim())})`,
      `(name = "REFRESH_SECONDS", text = "1")`,
    ],
  },
]);
const socket = await listeningSocket();
const child = spawn(`${root}node_modules/.bin/workerd`, ["serve", config, "--socket-fd", "edge=3"], {
  stdio: ["ignore", "inherit", "inherit", socket.fd],
});
socket.server.close();
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill("SIGTERM"));
child.on("exit", (code, sig) => process.exit(code ?? (sig ? 1 : 0)));

const worker = `http://127.0.0.1:${socket.port}`;
const deadline = Date.now() + 30000;
for (;;) {
  try {
    if ((await fetch(`${worker}/healthz`, { headers: { "cf-connecting-ip": "127.0.0.1" } })).ok) break;
  } catch {
    // not up yet
  }
  if (Date.now() > deadline) {
    console.error("workerd did not answer /healthz within 30 s");
    child.kill("SIGTERM");
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}
// The front: every request goes to workerd as it came, plus the connecting client's address.
const front = http.createServer((req, res) => {
  const headers = { ...req.headers, "cf-connecting-ip": req.socket.remoteAddress.replace(/^::ffff:/, "") };
  const upstream = http.request(`${worker}${req.url}`, { method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", (e) => res.destroy(e));
  req.pipe(upstream);
});
await new Promise((r) => front.listen(0, "127.0.0.1", r));
console.log(`Listening on http://127.0.0.1:${front.address().port}`);
