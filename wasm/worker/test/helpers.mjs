// Shared by the tests and the benchmark: the corpus written by `cargo run -p mirrorvane-wasm --example corpus`,
// the WASM package, and real servers (workerd, Node) on 127.0.0.1 ports the OS picks.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { initSync } from "../pkg/mirrorvane_wasm.js";

export const root = fileURLToPath(new URL("..", import.meta.url));
export const corpusDir = process.env.MIRRORVANE_CORPUS_DIR ?? `${root}build/corpus`;

let initialised = false;
export function initWasm() {
  if (!initialised) {
    initSync({ module: readFileSync(`${root}pkg/mirrorvane_wasm_bg.wasm`) });
    initialised = true;
  }
}

export function loadCorpus(dir = corpusDir) {
  const corpus = JSON.parse(readFileSync(`${dir}/corpus.json`, "utf8"));
  return {
    ...corpus,
    snapshot: readFileSync(`${dir}/snapshot.bin`),
    signed: readFileSync(`${dir}/snapshot-signed.bin`),
    dir,
  };
}

/** A listening TCP socket on 127.0.0.1 with an OS-picked port, to hand to a child process as an fd (no race). */
export async function listeningSocket() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, resolve);
  });
  return { server, port: server.address().port, fd: server._handle.fd };
}

/** Spawns a child, collecting its output; `stop()` ends it (only it) and waits. */
export function start(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe", ...(options.fds ?? [])], ...options });
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (d) => (out.stdout += d));
  child.stderr.on("data", (d) => (out.stderr += d));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Waits until `predicate()` is true (polling), or throws after `ms` (or once `child` exited) with `describe()`. */
export async function until(predicate, ms, describe, child) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${await describe()}`);
    try {
      if (await predicate()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${await describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Asserts that an HTTP response equals a corpus answer byte for byte. */
export async function sameAnswer(assert, res, expect, name) {
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, expect.status, `${name}: status`);
  assert.equal(res.headers.get("content-type"), expect.headers["content-type"], `${name}: content-type`);
  assert.equal(res.headers.get("location"), expect.headers.location ?? null, `${name}: location`);
  assert.ok(body.equals(Buffer.from(expect.body, "utf8")), `${name}: body differs:\n${body}\n---expected---\n${expect.body}`);
}

/**
 * A workerd config (capnp text): one service and socket per entry of `services` ({ name, bindings, modules? }),
 * serving src/worker.js unless `modules` says otherwise (the package's modules are always included).
 */
export { relative };
export function workerdConfig(path, services) {
  // capnp resolves `embed` paths relative to the config file.
  const rel = (abs) => JSON.stringify(relative(dirname(path), abs));
  const embed = (p) => rel(`${root}${p}`);
  // The package's modules: src/mirrorvane.js and everything wasm-bindgen wrote (glue, .wasm, inline JS snippets).
  const generated = readdirSync(`${root}pkg`, { recursive: true })
    .filter((f) => f.endsWith(".js") || f.endsWith(".wasm"))
    .map((f) => `pkg/${f}`);
  const pkg = ["src/mirrorvane.js", ...generated]
    .map((m) => `(name = "${m}", ${m.endsWith(".wasm") ? "wasm" : "esModule"} = embed ${embed(m)}),`)
    .join("\n    ");
  const text = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${services.map((s) => `(name = "${s.name}", worker = .${s.name}Worker),`).join("\n    ")}
    # The default outbound only reaches public addresses; the URL-source test serves from 127.0.0.1.
    (name = "internet", network = (allow = ["public", "local", "private"])),
  ],
  sockets = [
    ${services.map((s) => `(name = "${s.name}", address = "127.0.0.1:0", http = (cfBlobHeader = "x-test-cf"), service = "${s.name}"),`).join("\n    ")}
  ],
);
${services
  .map(
    (s) => `const ${s.name}Worker :Workerd.Worker = (
  modules = [
    ${(s.modules ?? [`(name = "src/worker.js", esModule = embed ${embed("src/worker.js")})`]).join(",\n    ")},
    ${pkg}
  ],
  bindings = [${s.bindings.join(", ")}],
  compatibilityDate = "2026-11-01",
  globalOutbound = "internet",
);`,
  )
  .join("\n")}
`;
  writeFileSync(path, text);
}
