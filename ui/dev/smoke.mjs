// A smoke run of the built page against dev/mock-server.mjs in a 360 px wide headless Chromium.
// Not part of npm test and not a dependency: to run it,
//   npm run build && npm i --no-save puppeteer-core && CHROMIUM=/usr/bin/chromium node dev/smoke.mjs
// It prints what it saw and writes screenshots to /tmp/tp-ui-*.png.
import puppeteer from "puppeteer-core";
import { spawn } from "node:child_process";

const URL0 = "http://127.0.0.1:7671";
const startServer = () => {
  const p = spawn("node", [new URL("./mock-server.mjs", import.meta.url).pathname, "7671"], {
    env: { ...process.env, TP_UI_TOKEN: "test", TP_UI_MOCK_DELAY_MS: "1200" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return p;
};
let server = startServer();
await new Promise((r) => setTimeout(r, 700));
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
});
const page = await browser.newPage();
await page.setViewport({ width: 360, height: 800 });
const problems = [];
page.on("console", (m) => {
  if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
});
page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
const t = (id) => `[data-testid="${id}"]`;
const text = async (id) => page.$eval(t(id), (e) => e.textContent);
const hscroll = async (label) => {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, document.body.scrollWidth]);
  console.log(label, "scrollWidth", w);
};
await page.goto(`${URL0}/?token=test`);
await page.waitForSelector(t("status-connected"));
console.log("status:", await text("status-connected"));
await page.screenshot({ path: "/tmp/tp-ui-1-start.png", fullPage: true });
await hscroll("start");
await page.click(t("connect-button"));
await page.waitForSelector(t("action-progress"));
console.log("connect disabled while running:", await page.$eval(t("connect-button"), (b) => b.disabled));
await new Promise((r) => setTimeout(r, 700));
await page.screenshot({ path: "/tmp/tp-ui-2-connecting.png", fullPage: true });
await page.waitForFunction(
  (s) => document.querySelector(s)?.textContent === "Connected",
  {},
  t("status-connected"),
);
await page.waitForSelector(t("workload-row-echo"));
console.log("engagement-of-echo:", await text("engagement-of-echo"));
await page.click(t("engage-button-echo"));
await page.waitForSelector(t("engage-dialog"));
await page.select(t("engage-mode"), "intercept");
await page.click(t("engage-image"));
await page.type(t("engage-image"), "tp-echo:latest");
await page.click(t("engage-add-docker-arg"));
await page.type(t("engage-docker-arg-0"), "-e");
await page.click(t("engage-add-docker-arg"));
await page.type(t("engage-docker-arg-1"), "X=a b");
await page.click(t("engage-port"), { clickCount: 3 });
await page.type(t("engage-port"), "99999");
await page.screenshot({ path: "/tmp/tp-ui-3-dialog.png", fullPage: true });
await page.click(t("engage-submit"));
await new Promise((r) => setTimeout(r, 200));
console.log("dialog still open after bad port:", !!(await page.$(t("engage-dialog"))));
await page.click(t("engage-port"), { clickCount: 3 });
await page.type(t("engage-port"), "8080:9090");
await page.click(t("engage-submit"));
await page.waitForSelector(t("engage-dialog") + " " + t("action-progress"));
await page.waitForSelector(t("engage-dialog"), { hidden: true, timeout: 10000 });
const card = await page.waitForSelector('[data-testid^="engagement-card-"]');
const cardId = await card.evaluate((e) => e.dataset.testid);
console.log(
  "card:",
  cardId,
  "env:",
  (await page.$eval(`[data-testid="${cardId}"] ${t("engagement-env")}`, (e) => e.textContent)).slice(0, 60),
);
console.log(
  "volumes:",
  await page.$eval(`[data-testid="${cardId}"] ${t("engagement-volumes")}`, (e) => e.textContent),
);
await page.waitForSelector('[data-testid="logs-intercept-echo-8080"]');
await new Promise((r) => setTimeout(r, 1500));
console.log("logs lines:", (await text("logs-intercept-echo-8080")).split("\n").length);
console.log("engagement-of-echo:", await text("engagement-of-echo"));
await hscroll("engaged");
await page.screenshot({ path: "/tmp/tp-ui-4-engaged.png", fullPage: true });
const id = cardId.replace("engagement-card-", "");
await page.click(t(`leave-button-${id}`));
await page.waitForFunction(
  (s) => document.querySelector(s)?.textContent === "not engaged",
  { timeout: 10000 },
  t("engagement-of-echo"),
);
console.log("left; engagement-of-echo:", await text("engagement-of-echo"));
// failing engagement
await page.click(t("engage-button-echo"));
await page.waitForSelector(t("engage-dialog"));
await page.type(t("engage-image"), "fail");
await page.click(t("engage-submit"));
await page.waitForSelector(t("engage-dialog") + " " + t("error-alert"), { timeout: 10000 });
console.log("error:", await page.$eval(t("engage-dialog") + " " + t("error-alert"), (e) => e.textContent));
await page.screenshot({ path: "/tmp/tp-ui-5-engage-error.png", fullPage: true });
await page.keyboard.press("Escape");
await page.waitForSelector(t("engage-dialog"), { hidden: true });
// docker run
await page.type(t("docker-run-image"), "busybox:latest");
await page.click(t("docker-run-add-arg"));
await page.type(t("docker-run-arg-0"), "sh -c 'echo hi'");
await page.click(t("docker-run-submit"));
const cc = await page.waitForSelector('[data-testid^="container-card-"]', { timeout: 10000 });
const ccId = await cc.evaluate((e) => e.dataset.testid);
const name = ccId.replace("container-card-", "");
await new Promise((r) => setTimeout(r, 1000));
console.log("container", name, "log lines", (await text(`logs-${name}`)).split("\n").length);
await page.screenshot({ path: "/tmp/tp-ui-6-run.png", fullPage: true });
await page.click(t(`stop-container-${name}`));
await page.waitForSelector(t(ccId), { hidden: true });
console.log("stopped");
// error on connect to staging
await page.click(t("disconnect-button"));
await page.waitForFunction(
  (s) => document.querySelector(s)?.textContent === "Not connected",
  { timeout: 10000 },
  t("status-connected"),
);
await page.select(t("context-select"), "staging");
await page.click(t("connect-button"));
await page.waitForSelector(t("error-alert"), { timeout: 10000 });
console.log("connect error:", await text("error-alert"));
// unreachable
server.kill();
await page.waitForSelector(t("api-unreachable"), { timeout: 15000 });
console.log("banner:", await text("api-unreachable"));
await page.screenshot({ path: "/tmp/tp-ui-7-unreachable.png", fullPage: true });
server = startServer();
await page.waitForSelector(t("api-unreachable"), { hidden: true, timeout: 20000 });
console.log("banner gone after restart");
await hscroll("end");
console.log("problems:", problems);
await browser.close();
server.kill();
