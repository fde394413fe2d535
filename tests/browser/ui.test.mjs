// The web UI in a real browser: Debian's Chromium, headless, driven through playwright-core.
//
// A site admin and an admin sign in through the form; the site admin creates a site, a host, a URL and a
// netblock, sees validation errors, and cannot see or change another site; the admin reaches what is theirs
// only. Screenshots of the main pages go to $MIRRORVANE_SCREENSHOTS (CI keeps them as artifacts).
//
// Needs: MIRRORVANE_BIN (the `mirrorvane` binary), Chromium at $CHROMIUM or /usr/bin/chromium.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.MIRRORVANE_BIN;
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = process.env.MIRRORVANE_SCREENSHOTS ?? join(here, "screenshots");

let dir, server, base, browser;

/** Runs `mirrorvane ARGS` on the test database; `input` goes to its standard input. */
function mirrorvane(args, input) {
  const r = spawnSync(bin, ["--database", `sqlite://${dir}/ui.db`, ...args], {
    input,
    encoding: "utf8",
    env: { ...process.env, RUST_LOG: "warn" },
  });
  assert.equal(r.status, 0, `mirrorvane ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  assert.ok(bin && existsSync(bin), "MIRRORVANE_BIN names the mirrorvane binary");
  assert.ok(existsSync(browserPath), `Chromium at ${browserPath} (Debian's chromium package)`);
  dir = mkdtempSync(join(tmpdir(), "mirrorvane-ui-"));
  mkdirSync(shots, { recursive: true });
  mirrorvane(["apply", "-f", join(here, "fixture.toml")]);
  mirrorvane(["account", "add", "root", "--group", "sysadmin-main"], "root-password\n");
  mirrorvane(["account", "add", "alice"], "alice-password\n");
  mirrorvane(["account", "add", "bob"], "bob-password\n");
  // The default cookies (Secure): Chromium keeps them for http://127.0.0.1, a potentially trustworthy origin.
  server = spawn(bin, ["--database", `sqlite://${dir}/ui.db`, "serve", "--listen", "127.0.0.1:0",
    "--snapshot", join(dir, "none.snapshot")], { env: { ...process.env, RUST_LOG: "warn" }, stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: server.stdout });
    rl.once("line", resolve);
    server.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
  base = line.replace("Listening on ", "").trim();
  browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A new browser context signed in as `name` through the form. */
async function signIn(name) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill("input[name=name]", name);
  await page.fill("input[name=password]", `${name}-password`);
  await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);
  assert.match(await page.textContent("nav"), new RegExp(`Sign out ${name}`));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Submits the form holding `selector` and waits for the answer page. */
async function submit(page, formSelector) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: "load" }),
    page.locator(formSelector).locator("button[type=submit]").click(),
  ]);
}

test("a site admin creates a site, a host, a URL and a netblock, and meets validation errors", async () => {
  const page = await signIn("alice");
  await shot(page, "home-signed-in");
  await page.click("text=Add a site");
  await page.fill("input[name=name]", "Alice Mirrors");
  await page.fill("input[name=org_url]", "https://alice.example/");
  await page.fill("input[name=password]", "check-in-secret");
  assert.equal(await page.locator("input[type=checkbox][name=admin_active]").count(), 0, "no admin-only field offered");
  await submit(page, "form[action='/site/new']");
  assert.match(page.url(), /\/site\/\d+$/);
  assert.match(await page.textContent("h1"), /Site Alice Mirrors/);
  await shot(page, "site");

  await page.click("text=Add a host");
  await page.fill("input[name=name]", "mirror.alice.example");
  await page.fill("input[name=country]", "se");
  await page.fill("input[name=bandwidth]", "10000");
  await submit(page, "form.stacked");
  assert.match(page.url(), /\/host\/\d+$/);
  assert.match(await page.textContent("h1"), /Host mirror\.alice\.example/);

  await page.selectOption("form[action$='/category/new'] select", "Fedora Linux");
  await submit(page, "form[action$='/category/new']");
  await page.fill("form[action$='/url/new'] input[name=url]", "ftp://mirror.alice.example/fedora");
  await submit(page, "form[action$='/url/new']");
  assert.match(await page.textContent("[role=alert]"), /Unsupported URL/);
  await page.fill("form[action$='/url/new'] input[name=url]", "https://mirror.alice.example/fedora/linux/");
  await submit(page, "form[action$='/url/new']");
  assert.equal(await page.locator("[role=alert]").count(), 0);
  assert.match(await page.textContent("section.category"), /https:\/\/mirror\.alice\.example\/fedora\/linux/);

  await page.fill("form[action$='/netblock/new'] input[name=name]", "campus");
  await page.fill("form[action$='/netblock/new'] input[name=netblock]", "10.0.0.0/8");
  await submit(page, "form[action$='/netblock/new']");
  assert.match(await page.textContent("[role=alert]"), /larger than \/16/);
  await shot(page, "host-validation-error");
  await page.fill("form[action$='/netblock/new'] input[name=name]", "campus");
  await page.fill("form[action$='/netblock/new'] input[name=netblock]", "192.0.2.0/24");
  await submit(page, "form[action$='/netblock/new']");
  assert.match(await page.textContent("main"), /192\.0\.2\.0\/24 \(campus\)/);
  // The browser would refuse it already (pattern=…): switch that off to reach the server's own check.
  await page.evaluate(() => { document.querySelector("form.stacked").noValidate = true; });
  await page.fill("form.stacked input[name=country]", "S1");
  await submit(page, "form.stacked");
  assert.match(await page.textContent("[role=alert]"), /two-letter/);
  await shot(page, "host");

  // Only the admin-only category is not offered, and the history shows every change.
  // Fedora Linux is carried and Fedora Codecs is admin-only: nothing left to offer her.
  assert.equal(await page.locator("form[action$='/category/new']").count(), 0, "no category offered");
  await page.goto(`${base}/site/mine`);
  await page.click("text=Alice Mirrors");
  await page.click("text=Every change to this site");
  const history = await page.textContent("table.audit");
  for (const what of ["site \"Alice Mirrors\"", "host \"mirror.alice.example\"", "netblock \"192.0.2.0/24\"", "url \"https://mirror.alice.example/fedora/linux\""]) {
    assert.ok(history.includes(what), `history lists ${what}`);
  }
  await shot(page, "site-history");
  await page.context().close();
});

test("a site admin cannot view or change another site", async () => {
  const page = await signIn("alice");
  // Bob's site is the fixture's first.
  const response = await page.goto(`${base}/site/1`);
  assert.equal(response.status(), 403);
  assert.match(await page.textContent("main"), /Access denied/);
  const host = await page.goto(`${base}/host/1`);
  assert.equal(host.status(), 403);
  // A forged form posted from her own page, aimed at Bob's host, with her valid token.
  const csrf = await page.evaluate(() => document.querySelector("input[name=csrf]").value);
  const status = await page.evaluate(async ([token]) => {
    const r = await fetch("/host/1", { method: "POST", body: new URLSearchParams({ csrf: token, bandwidth: "1" }) });
    return r.status;
  }, [csrf]);
  assert.equal(status, 403);
  await shot(page, "access-denied");
  await page.context().close();
});

test("an admin sees every site and sets admin-only fields", async () => {
  const page = await signIn("root");
  await page.click("nav >> text=Admin");
  await shot(page, "admin");
  await page.click("text=All sites");
  const sites = await page.textContent("table");
  assert.ok(sites.includes("Bob Site") && sites.includes("Alice Mirrors"), sites);
  await page.click("text=Bob Site");
  assert.equal(await page.locator("input[type=checkbox][name=admin_active]").count(), 1, "admin-only field offered to admins");
  await page.click("text=mirror.bob.example");
  await submit(page, "form[action$='/category/update']");
  assert.match(await page.textContent("section.category"), /always up to date/);
  const offered = await page.locator("form[action$='/category/new'] option").allTextContents();
  assert.ok(offered.includes("Fedora Codecs"), "admins are offered admin-only categories");
  await page.goto(`${base}/admin/audit`);
  assert.match(await page.textContent("table.audit"), /always_up_to_date/);
  await shot(page, "audit-log");
  await page.context().close();
});

test("the public pages render without signing in", async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  for (const [path, name] of [["/", "home"], ["/mirrors", "mirrors"], ["/statistics", "statistics"], ["/login", "login"]]) {
    const r = await page.goto(`${base}${path}`);
    assert.equal(r.status(), 200, path);
    await shot(page, name);
  }
  await context.close();
});
