// The web UI in a real browser (Playwright + Debian's chromium), run by tests/tests/web_ui.rs
// after it has seeded the data. Each step acts as a person would (labels, buttons, links)
// and checks what the page shows; a screenshot of every page goes to $SHOTS.
// The last line printed is `RESULT {...}`: what the Rust side checks with real clients.
"use strict";

const { chromium } = require(process.env.PLAYWRIGHT_MODULE);

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SHOTS;
const PASSWORD = process.env.PASSWORD;

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

function same(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

/// Every page: one main landmark, one h1, and every form control labelled.
async function checkPage(page, name) {
  const problems = await page.evaluate(() => {
    const found = [];
    if (document.querySelectorAll("main").length !== 1) found.push("not exactly one <main>");
    if (document.querySelectorAll("h1").length !== 1) found.push("not exactly one <h1>");
    if (!document.documentElement.lang) found.push("no lang on <html>");
    for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
      const labelled = (el.labels && el.labels.length > 0) || el.getAttribute("aria-label");
      if (!labelled) found.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name || el.id}`);
    }
    for (const b of document.querySelectorAll("button, a[href]")) {
      if (!b.hidden && !(b.innerText || "").trim() && !b.getAttribute("aria-label")) {
        found.push(`${b.tagName.toLowerCase()} without text`);
      }
    }
    return found;
  });
  check(problems.length === 0, `${name}: ${problems.join("; ")}`);
}

let shotCount = 0;
async function shot(page, name) {
  await checkPage(page, name);
  shotCount += 1;
  const n = String(shotCount).padStart(2, "0");
  await page.screenshot({ path: `${SHOTS}/${name}-${n}.png`, fullPage: true });
}

async function step(name, body) {
  const started = Date.now();
  try {
    await body();
  } catch (e) {
    e.message = `step "${name}": ${e.message}`;
    throw e;
  }
  console.log(`ok   ${name} (${Date.now() - started} ms)`);
}

/// The package names in the listing's table, in order.
async function names(page) {
  return page.locator("table.packages tbody tr td:first-child a").allInnerTexts();
}

async function signIn(page, username) {
  await page.goto(`${BASE}/users/sign_in`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState();
  check(
    (await page.locator(".who").innerText()).includes(username),
    `signed in as ${username}`
  );
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForLoadState();
  check(await page.getByRole("link", { name: "Sign in" }).isVisible(), "signed out");
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const result = {};
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
    context.setDefaultTimeout(10000);
    const page = await context.newPage();
    const anonymous = await browser.newContext({ viewport: { width: 390, height: 844 } });
    anonymous.setDefaultTimeout(10000);
    const anon = await anonymous.newPage();

    await step("anonymous visitors see public groups and projects, not private ones", async () => {
      await anon.goto(`${BASE}/explore`);
      const text = await anon.locator("main").innerText();
      check(text.includes("acme/app"), "acme/app listed");
      check(text.includes("acme/libs/core"), "acme/libs/core listed");
      check(!text.includes("acme/secret"), "acme/secret hidden from anonymous");
      await shot(anon, "explore-phone");
      await anon.goto(`${BASE}/groups/acme/-/packages`);
      check(!(await names(anon)).includes("hidden-tool"), "hidden-tool not listed");
      const r = await anon.goto(`${BASE}/acme/secret/-/packages`);
      same(r.status(), 404, "a private project's registry, anonymously");
      check((await anon.locator("h1").innerText()) === "Page not found", "404 page");
      await shot(anon, "not-found");
    });

    await step("keyboard: the first Tab reaches 'Skip to main content', Enter moves to main", async () => {
      await page.goto(`${BASE}/explore`);
      await page.keyboard.press("Tab");
      same(await page.evaluate(() => document.activeElement.innerText), "Skip to main content", "first Tab");
      await page.keyboard.press("Enter");
      same(await page.evaluate(() => document.activeElement.id), "main", "focus after Enter");
    });

    await step("sign in", async () => {
      await page.goto(`${BASE}/explore`);
      await shot(page, "explore");
      await page.getByRole("link", { name: "Sign in" }).click();
      await page.getByLabel("Username").fill("mia");
      await page.getByLabel("Password").fill("not the password");
      await page.getByRole("button", { name: "Sign in" }).click();
      check(
        (await page.getByRole("alert").innerText()).includes("Invalid username or password"),
        "a wrong password is refused"
      );
      await shot(page, "sign-in");
      await signIn(page, "mia");
      check((await page.locator("main").innerText()).includes("acme/secret"), "members see acme/secret");
    });

    let copiedUrl;
    await step("group registry: search, filter, sort, paginate, reload a copied URL", async () => {
      await page.getByRole("link", { name: "acme", exact: true }).click();
      await page.waitForURL(`${BASE}/groups/acme/-/packages`);
      check((await page.locator("h1").innerText()).includes("acme"), "group heading");
      // 6 widget versions... 5 versions of widget, 18 libs, fixture-pkg, hidden-tool = 25.
      check((await page.locator("#listing-summary").innerText()).includes("of 25 packages"), "25 packages");
      same((await names(page)).length, 20, "first page rows");
      await shot(page, "group-registry");

      await page.getByRole("link", { name: /Next/ }).click();
      await page.waitForLoadState();
      same((await names(page)).length, 5, "second page rows");
      check(page.url().includes("page=2"), "the page is in the URL");

      await page.getByLabel("Search by name").fill("widget");
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForLoadState();
      same(await names(page), Array(5).fill("widget"), "search widget");

      await page.getByLabel("Search by name").fill("");
      await page.getByLabel("Format").selectOption({ label: "npm" });
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForLoadState();
      same(await names(page), ["fixture-pkg"], "format npm");

      await page.getByLabel("Format").selectOption({ index: 0 });
      await page.getByLabel("Search by name").fill("lib-");
      await page.getByLabel("Sort by").selectOption({ label: "Name" });
      await page.getByLabel("Order").selectOption({ label: "Descending" });
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForLoadState();
      const expected = Array.from({ length: 18 }, (_, i) => `lib-${String(i).padStart(2, "0")}`).reverse();
      same(await names(page), expected, "lib- by name, descending");
      await page.getByLabel("Order").selectOption({ label: "Ascending" });
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForLoadState();
      same(await names(page), [...expected].reverse(), "lib- by name, ascending");
      await shot(page, "group-registry-filtered");

      copiedUrl = page.url();
      const shown = await names(page);
      await page.reload();
      same(await names(page), shown, "after reload");
      // Someone else with the copied URL sees the same (these packages are public).
      await anon.goto(copiedUrl);
      same(await names(anon), shown, "anonymous visitor with the copied URL");
      await shot(anon, "group-registry-phone");
    });

    await step("package page: files, versions and CI activity", async () => {
      await page.goto(`${BASE}/acme/app/-/packages`);
      await shot(page, "project-registry");
      await page.getByLabel("Search by name").fill("widget");
      await page.getByLabel("Sort by").selectOption({ label: "Version" });
      await page.getByLabel("Order").selectOption({ label: "Descending" });
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForLoadState();
      await page.locator("table.packages tbody tr td:first-child a").first().click();
      await page.waitForLoadState();
      const main = await page.locator("main").innerText();
      check(main.includes("widget") && main.includes("1.0.4"), "package heading");
      for (const f of ["widget.bin", "widget-extra.txt", "widget-old.txt"]) {
        check(main.includes(f), `file ${f} listed`);
      }
      for (const v of ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]) {
        check(main.includes(v), `other version ${v} listed`);
      }
      const ci = await page
        .locator("section", { has: page.getByRole("heading", { name: "CI/CD activity" }) })
        .innerText();
      check(ci.includes("4242") && ci.includes("777") && ci.includes("0123456"), `CI activity: ${ci}`);
      await shot(page, "package");

    });

    await step("a Maintainer deletes a file, with confirmation", async () => {
      await page.getByRole("link", { name: "Delete widget-old.txt" }).click();
      await page.waitForLoadState();
      check((await page.locator("h1").innerText()).includes("Delete file"), "confirmation page");
      await shot(page, "delete-file-confirm");
      await page.getByRole("button", { name: "Delete", exact: true }).click();
      await page.waitForLoadState();
      check((await page.getByRole("status").first().innerText()).includes("File deleted."), "notice");
      check(!(await page.locator("main").innerText()).includes("widget-old.txt"), "file gone");
    });

    await step("copy the install snippet", async () => {
      await page.getByRole("button", { name: "Copy Install" }).click();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      const shownSnippet = await page
        .locator("section.snippet", { has: page.getByRole("heading", { name: "Install", exact: true }) })
        .locator("pre")
        .innerText();
      same(copied.trim(), shownSnippet.trim(), "the clipboard holds the snippet shown");
      check(copied.includes(`${BASE}/api/v4/projects/`), `the snippet names this instance: ${copied}`);
      result.snippet = copied.trim();
    });

    await step("personal access token, shown once", async () => {
      await page.getByRole("link", { name: "Access tokens" }).click();
      await page.getByLabel("Token name").fill("from-the-browser");
      await page.getByLabel(/^api/).check();
      await page.getByRole("button", { name: "Create token" }).click();
      await page.waitForLoadState();
      const token = (await page.locator(".token-once pre").innerText()).trim();
      check(token.startsWith("glpat-"), `a token is shown: ${token}`);
      await shot(page, "tokens");
      await page.reload();
      check((await page.locator(".token-once").count()) === 0, "not shown again");
      result.token = token;
    });

    await step("instance option hides and shows 'Allow anyone to pull'", async () => {
      await signOut(page);
      await signIn(page, "ada");
      await page.goto(`${BASE}/admin/application_settings/ci_cd`);
      await page.getByLabel(/Allow anyone to pull from Package Registry/).uncheck();
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.waitForLoadState();
      await shot(page, "admin-settings");
      await page.goto(`${BASE}/groups/acme/-/settings/packages_and_registries`);
      check((await page.locator("h1").innerText()).includes("settings"), "group settings as an admin");
      await shot(page, "group-settings");
      await signOut(page);
      await signIn(page, "mia");
      await page.goto(`${BASE}/acme/secret/-/settings/packages_and_registries`);
      same(
        await page.locator("input[name=package_registry_access_level][value=public]").count(),
        0,
        "choice hidden while the instance option is off"
      );
      await signOut(page);
      await signIn(page, "ada");
      await page.goto(`${BASE}/admin/application_settings/ci_cd`);
      await page.getByLabel(/Allow anyone to pull from Package Registry/).check();
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.waitForLoadState();
      await signOut(page);
    });

    await step("a private project switched to 'allow anyone to pull' serves its packages, not its pages, to anonymous visitors", async () => {
      await signIn(page, "mia");
      await page.goto(`${BASE}/acme/secret/-/settings/packages_and_registries`);
      await page.locator("input[name=package_registry_access_level][value=public]").check();
      await page.getByRole("button", { name: "Save access level" }).click();
      await page.waitForLoadState();
      check((await page.getByRole("status").first().innerText()).includes("saved"), "saved notice");
      await shot(page, "project-settings");
      // Group settings are for Owners: a Maintainer gets the 404 page.
      const r0 = await page.goto(`${BASE}/groups/acme/-/settings/packages_and_registries`);
      same(r0.status(), 404, "group settings as a Maintainer");

      // "Allow anyone to pull" grants package reads only, as in GitLab: the project stays
      // private in the UI (its path is not shown), while its package downloads anonymously.
      await anon.goto(`${BASE}/groups/acme/-/packages?search=hidden`);
      same(await names(anon), [], "hidden-tool is not listed to anonymous visitors");
      const r = await anon.goto(`${BASE}/acme/secret/-/packages`);
      same(r.status(), 404, "the project's registry page, anonymously");
      const file = await anon.request.get(
        `${BASE}/api/v4/projects/acme%2Fsecret/packages/generic/hidden-tool/3.0.0/tool.bin`);
      same(file.status(), 200, "the package file, anonymously");
    });

    await step("a Developer is refused deleting", async () => {
      await page.goto(`${BASE}/explore`);
      await signOut(page);
      await signIn(page, "dev");
      await page.goto(`${BASE}/acme/app/-/packages?search=widget`);
      await page.locator("table.packages tbody tr td:first-child a").first().click();
      await page.waitForLoadState();
      same(await page.getByRole("link", { name: /^Delete/ }).count(), 0, "no delete links for a Developer");
      const fileLink = page.url() + "/delete";
      const r = await page.goto(fileLink);
      same(r.status(), 403, "the delete page, as a Developer");
      await shot(page, "delete-refused");
      await page.goto(`${BASE}/explore`);
      await signOut(page);
      await shot(page, "signed-out");
    });

    await anonymous.close();
    await context.close();
  } finally {
    await browser.close();
  }
  console.log(`RESULT ${JSON.stringify(result)}`);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
