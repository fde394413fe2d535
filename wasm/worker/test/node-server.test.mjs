// The Node and Deno example servers (examples/) in real Node and Deno processes on 127.0.0.1 ports they pick:
// the differential corpus over HTTP (geo, seed and time in headers), its access log on stdout, /healthz, SIGHUP reload.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { after, before, describe, test } from "node:test";
import { loadCorpus, root, sameAnswer, start, until } from "./helpers.mjs";

const corpus = loadCorpus();
const options = ["--listen", "127.0.0.1:0", "--geo-headers", "--test-headers"];
const servers = {
  node: [process.execPath, `${root}examples/node-server.mjs`],
  // Deno from its npm package; no network needed.
  deno: [`${root}node_modules/.bin/deno`, "run", "--allow-read", "--allow-net=127.0.0.1", `${root}examples/deno-server.ts`],
};

for (const [platform, [cmd, ...args]] of Object.entries(servers)) {
  describe(platform, () => {
    const dir = mkdtempSync(`${tmpdir()}/mirrorvane-${platform}-`);
    const snapshot = `${dir}/snapshot`;
    let server, base, geoServer, geoBase;

    async function launch(extra) {
      const s = start(cmd, [...args, ...extra, ...options], {
        env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: `${dir}/deno` },
      });
      const listening = /listening on 127\.0\.0\.1:(\d+)/;
      await until(() => listening.test(s.out.stderr), 20000, () => s.out.stderr, s.child);
      return [s, `http://127.0.0.1:${s.out.stderr.match(listening)[1]}`];
    }

    before(async () => {
      copyFileSync(`${corpus.dir}/snapshot.bin`, snapshot);
      [server, base] = await launch(["--snapshot", snapshot]);
      // A second server with the GeoIP test databases, for the entries the native edge answered with them.
      const geo = ["--geoip", corpus.geo.country, "--asn", corpus.geo.asn];
      [geoServer, geoBase] = await launch(["--snapshot", `${corpus.dir}/snapshot.bin`, ...geo]);
    });

    after(async () => {
      await server?.stop();
      await geoServer?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    function send(e) {
      // The client address arrives as X-Forwarded-For, as behind a proxy; geo as a fronting CDN would set it.
      const headers = { "x-forwarded-for": e.clientIp, "x-test-seed": e.seed, "x-test-now": String(e.now) };
      if (e.country !== null) headers["x-client-country"] = e.country;
      if (e.continent !== null) headers["x-client-continent"] = e.continent;
      if (e.asn !== null) headers["x-client-asn"] = String(e.asn);
      if (e.accept) headers.accept = e.accept;
      return fetch(`${e.geoDb ? geoBase : base}${e.target}`, { headers, redirect: "manual" });
    }

    test("answers the corpus byte for byte like the native selector", async () => {
      for (const e of corpus.entries) await sameAnswer(assert, await send(e), e.expect, e.name);
      const log = (geoDb) => corpus.entries.filter((e) => e.geoDb === geoDb && e.expect.logLine).map((e) => e.expect.logLine).join("");
      await until(() => geoServer.out.stdout === log(true), 5000, () => `access log:\n${geoServer.out.stdout}`);
      const logged = log(false);
      await until(() => server.out.stdout === logged, 5000, () => `access log:\n${server.out.stdout}`);
    });

    test("/healthz, and SIGHUP reloads the file (refusing a corrupt one)", async () => {
      const healthz = async () => (await fetch(`${base}/healthz`)).text();
      assert.equal(await healthz(), `ok generation=1 created=${corpus.created}\n`);
      writeFileSync(snapshot, "not a snapshot");
      server.child.kill("SIGHUP");
      await until(() => server.out.stderr.includes("snapshot refused, keeping the previous one"), 5000, () => server.out.stderr);
      assert.equal(await healthz(), `ok generation=1 created=${corpus.created}\n`);
      copyFileSync(`${corpus.dir}/snapshot-next.bin`, snapshot);
      server.child.kill("SIGHUP");
      const want = `ok generation=2 created=${corpus.created + 3600}\n`;
      let last = "";
      await until(async () => (last = await healthz()) === want, 5000, () => last);
    });
  });
}
