// Mirrorvane's selector (WASM) as a small Node HTTP server: the same package and answers as the Workers worker.
//
//   node examples/node-server.mjs --snapshot FILE [--listen 127.0.0.1:8080] [--geoip COUNTRY.mmdb] [--asn ASN.mmdb]
//       [--geo-headers] [--test-headers]
//
// Answers /metalink, /mirrorlist and /healthz like the native edge; the client address is the last
// X-Forwarded-For element or the peer, as there. Geo: --geoip and --asn load MaxMind databases as the native edge
// does; with --geo-headers, hints from the X-Client-Country, X-Client-Continent and X-Client-ASN headers a fronting
// proxy or CDN sets (only behind one that overwrites them) take precedence. SIGHUP reloads the snapshot file; one that does not validate is refused
// and the old one keeps serving. Access-log lines go to stdout, everything else to stderr.
import { readFileSync } from "node:fs";
import http from "node:http";
import { initSync } from "../pkg/mirrorvane_wasm.js";
import { Mirrorvane, pathOf } from "../src/mirrorvane.js";

initSync({ module: readFileSync(new URL("../pkg/mirrorvane_wasm_bg.wasm", import.meta.url)) });

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const file = opt("--snapshot");
if (!file) {
  console.error("usage: node-server.mjs --snapshot FILE [--listen HOST:PORT] [--geoip FILE] [--asn FILE] [--geo-headers] [--test-headers]");
  process.exit(2);
}
const listen = opt("--listen") ?? "127.0.0.1:8080";
const geoHeaders = args.includes("--geo-headers");
// Tests only: the shuffle's seed and the time from x-test-seed and x-test-now, for byte-for-byte comparisons.
const testHeaders = args.includes("--test-headers");

const state = new Mirrorvane();
const geoip = opt("--geoip");
const asnDb = opt("--asn");
if (geoip || asnDb) {
  state.loadGeo({ country: geoip && readFileSync(geoip), asn: asnDb && readFileSync(asnDb) });
}
state.load(readFileSync(file));
process.on("SIGHUP", () => {
  try {
    state.load(readFileSync(file));
    console.error(`reloaded ${file}: generation ${state.generation}, created ${state.created}`);
  } catch (e) {
    console.error(`snapshot refused, keeping the previous one: ${e.message}`);
  }
});

const server = http.createServer((req, res) => {
  if (pathOf(req.url) === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" }).end(state.healthz());
    return;
  }
  // Node joins repeated X-Forwarded-For headers with ", "; its last element is the last header's, as natively.
  const xff = req.headers["x-forwarded-for"];
  const ip = xff ?? req.socket.remoteAddress ?? "";
  const hints = geoHeaders
    ? {
        country: req.headers["x-client-country"],
        continent: req.headers["x-client-continent"],
        asn: req.headers["x-client-asn"],
      }
    : {};
  const now = testHeaders && req.headers["x-test-now"] ? Number(req.headers["x-test-now"]) : Date.now() / 1000;
  const seed = testHeaders ? req.headers["x-test-seed"] : undefined;
  const a = state.handle(req.url, ip, hints, now, { accept: req.headers.accept, seed });
  if (a.logLine) process.stdout.write(a.logLine);
  res.writeHead(a.status, a.headers).end(a.body);
});

const colon = listen.lastIndexOf(":");
server.listen(Number(listen.slice(colon + 1)), listen.slice(0, colon).replace(/^\[|\]$/g, ""), () => {
  const { address, port } = server.address();
  console.error(`listening on ${address}:${port} (snapshot created ${state.created})`);
});
