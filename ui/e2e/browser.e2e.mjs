// The page of `telepresence ui` in a real browser (Debian's chromium, headless, driven by
// playwright-core): run by test/docker/ui.sh against a running `telepresence ui` on the demo
// cluster, with the address it printed. Prints "PASS: ..." / "FAIL: ..." per check and the
// measured times ("TIME: ..."); exits 1 when a check failed. Screenshots of each step go to
// SCREENSHOT_DIR.
//
// With HANDLER_IMAGE (a locally built image whose container serves echo's ports and logs a line
// when it listens) it also replaces echo with it from the page, checks from inside the cluster
// (`docker exec greeter wget ...`) that the local container answers, sees its log line in the
// page, leaves, and sees echo answer again.
//
// usage: node ui/e2e/browser.e2e.mjs URL_WITH_TOKEN SCREENSHOT_DIR [HANDLER_IMAGE]
import { execFile } from "node:child_process";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { Checks, launchChromium } from "./harness.mjs";

const [address, shots, handlerImage] = process.argv.slice(2);
if (!address || !shots) {
  console.error("usage: node browser.e2e.mjs URL_WITH_TOKEN SCREENSHOT_DIR");
  process.exit(2);
}
const url = new URL(address);
const origin = url.origin;
const token = url.searchParams.get("token");
fs.mkdirSync(shots, { recursive: true });

const checks = new Checks();
const check = (name, ok, detail = "") => checks.check(name, ok, detail);

// A raw request with the headers given, as a hostile page or program would send it.
function rawGet(pathname, headers) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: pathname, method: "GET", headers },
      (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode, body }));
      },
    );
    request.on("error", reject);
    request.setTimeout(5000, () => request.destroy(new Error("no answer within 5 s")));
    request.end();
  });
}

// What echo.default:8080 answers to a request from inside the cluster (greeter), or "".
function fromCluster() {
  return new Promise((resolve) => {
    execFile(
      "docker",
      ["exec", "greeter", "timeout", "5", "wget", "-qO-", "http://echo.default:8080/from-the-page"],
      { timeout: 10000 },
      (error, stdout) => resolve(error ? "" : stdout),
    );
  });
}

// Polls fromCluster() until its answer contains `text`, at most `seconds`; the last answer.
async function untilClusterAnswers(text, seconds) {
  const deadline = Date.now() + seconds * 1000;
  let answer = "";
  while (Date.now() < deadline) {
    answer = await fromCluster();
    if (answer.includes(text)) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return answer;
}

const browser = await launchChromium();
let step = 0;
async function shot(page, name) {
  step += 1;
  await page.screenshot({ path: path.join(shots, `${String(step).padStart(2, "0")}-${name}.png`) });
}

try {
  // --- Who may reach it -------------------------------------------------------------------------
  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  const refused = await strangerPage.goto(`${origin}/`);
  const refusedText = await strangerPage.content();
  check("a page opened without the secret gets 401", refused?.status() === 401, `${refused?.status()}`);
  check(
    "a page opened without the secret gets no script, only how to get in",
    !refusedText.includes("<script") && refusedText.includes("telepresence ui"),
    refusedText.slice(0, 200),
  );
  const wrongToken = await strangerPage.goto(`${origin}/?token=${"f".repeat(32)}`);
  check("a wrong secret gets 401", wrongToken?.status() === 401, `${wrongToken?.status()}`);
  const api = await stranger.request.get(`${origin}/api/status`);
  check("the API without the secret answers 401", api.status() === 401, `${api.status()}`);
  await stranger.close();
  const foreign = await rawGet("/api/status", {
    Host: `rebound.example:${url.port}`,
    Cookie: `tp_ui=${token}`,
  });
  check(
    "a request with a foreign Host gets 403, even with the secret",
    foreign.status === 403,
    `${foreign.status}`,
  );
  check("a request with a foreign Host gets no status", !foreign.body.includes("connected"), foreign.body);

  // --- The page ---------------------------------------------------------------------------------
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  await page.goto(address);
  check("the secret in the address is dropped from it", page.url() === `${origin}/`, page.url());
  const cookies = await context.cookies();
  const session = cookies.find((cookie) => cookie.name === "tp_ui");
  check(
    "the session cookie is HttpOnly and SameSite=Strict",
    session?.httpOnly === true && session?.sameSite === "Strict",
    JSON.stringify(session),
  );
  const connected = page.getByTestId("status-connected");
  await connected.waitFor({ timeout: 15000 });
  check(
    "the page starts disconnected",
    (await connected.innerText()) === "Not connected",
    await connected.innerText(),
  );
  await shot(page, "opened");

  const connectStart = Date.now();
  await page.getByTestId("connect-button").click();
  await page
    .getByTestId("status-connected")
    .filter({ hasText: /^Connected$/ })
    .waitFor({ timeout: 60000 });
  const connectSeconds = (Date.now() - connectStart) / 1000;
  console.log(`TIME: click on Connect to "Connected": ${connectSeconds.toFixed(2)} s`);
  check("Connect connects", true);
  const statusText = await page.getByTestId("status-panel").innerText();
  check("the status shows the Teleroute network", /tp-default/.test(statusText), statusText);
  check("the status shows the cluster's subnet", /10\.213\.0\.0\/24/.test(statusText), statusText);
  await shot(page, "connected");

  const echoRow = page.getByTestId("workload-row-echo");
  await echoRow.waitFor({ timeout: 15000 });
  const echoText = await echoRow.innerText();
  check("echo is listed with its ports", /8080/.test(echoText) && /9090/.test(echoText), echoText);
  await shot(page, "workloads");

  if (handlerImage) {
    await page.getByTestId("engage-button-echo").click();
    const dialog = page.getByTestId("engage-dialog");
    await dialog.waitFor({ timeout: 10000 });
    await page.getByTestId("engage-mode").selectOption("replace");
    await page.getByTestId("engage-image").fill(handlerImage);
    await page.keyboard.press("Escape"); // closes the image list, not the dialog
    await shot(page, "engage-dialog");
    const replaceStart = Date.now();
    await page.getByTestId("engage-submit").click();
    const card = page.locator('[data-testid^="engagement-card-e-"]');
    await card
      .getByTestId("engagement-state")
      .filter({ hasText: /^active$/ })
      .waitFor({ timeout: 60000 });
    const answer = await untilClusterAnswers("echo from local-ui", 30);
    const replaceSeconds = (Date.now() - replaceStart) / 1000;
    console.log(
      `TIME: click on Replace to the first request answered locally: ${replaceSeconds.toFixed(2)} s`,
    );
    check(
      "a request inside the cluster reaches the local container",
      answer.includes("echo from local-ui"),
      answer,
    );
    const cardText = await card.innerText();
    check("the page shows the environment the container got", /ECHO_MESSAGE/.test(cardText), cardText);
    check("the page shows the volume the container got", /\/srv\/echo-data/.test(cardText), cardText);
    const logs = card.locator('[data-testid^="logs-"]');
    await logs.filter({ hasText: /local-ui listening/ }).waitFor({ timeout: 15000 });
    check("the page shows the local container's log line", true);
    const row = await page.getByTestId("engagement-of-echo").innerText();
    check("the workload row says echo is replaced", /replace/.test(row), row);
    await shot(page, "replaced");

    const cardId = await card.getAttribute("data-testid");
    await page.getByTestId(cardId.replace("engagement-card-", "leave-button-")).click();
    await card
      .getByTestId("engagement-state")
      .filter({ hasText: /^ended$/ })
      .waitFor({ timeout: 60000 });
    const after = await untilClusterAnswers("echo from echo", 15);
    check("after Leave, echo answers again", after.includes("echo from echo"), after);
    await shot(page, "left");

    // A plain container on the cluster network, like `telepresence docker-run`.
    await page.getByTestId("docker-run-image").fill("tp-busybox:latest");
    await page.keyboard.press("Escape");
    const words = ["sh", "-c", "wget -qO- http://echo.default:8080/from-docker-run; sleep 600"];
    for (const [i, word] of words.entries()) {
      await page.getByTestId("docker-run-add-arg").click();
      await page.getByTestId(`docker-run-arg-${i}`).fill(word);
    }
    await page.getByTestId("docker-run-submit").click();
    const containerCard = page.locator('[data-testid^="container-card-"]');
    await containerCard
      .locator('[data-testid^="logs-"]')
      .filter({ hasText: /path: \/from-docker-run/ })
      .waitFor({
        timeout: 30000,
      });
    check("a container run from the page reaches echo by its cluster name; its log is in the page", true);
    await shot(page, "docker-run");
    const containerName = (await containerCard.getAttribute("data-testid")).replace("container-card-", "");
    await page.getByTestId(`stop-container-${containerName}`).click();
    await containerCard.waitFor({ state: "detached", timeout: 30000 });
    const gone = await new Promise((resolve) =>
      execFile("docker", ["container", "inspect", containerName], (error) => resolve(Boolean(error))),
    );
    check("Stop removes the container", gone, containerName);
  }

  await page.setViewportSize({ width: 360, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check("a 360 px window needs no horizontal scrolling", overflow <= 0, `${overflow} px too wide`);
  await shot(page, "narrow");
  await page.setViewportSize({ width: 1200, height: 900 });

  await page.getByTestId("disconnect-button").click();
  await page
    .getByTestId("status-connected")
    .filter({ hasText: /^Not connected$/ })
    .waitFor({ timeout: 60000 });
  check("Disconnect disconnects", true);
  await shot(page, "disconnected");

  const telepresence = process.env.TP_TELEPRESENCE;
  if (telepresence) {
    // A connect and a quit in a terminal reach the open page through Docker's events.
    const run = (args) =>
      new Promise((resolve) => execFile(telepresence, args, { timeout: 60000 }, (error) => resolve(!error)));
    check("telepresence connect --docker in a terminal succeeds", await run(["connect", "--docker"]));
    await page
      .getByTestId("status-connected")
      .filter({ hasText: /^Connected$/ })
      .waitFor({ timeout: 15000 });
    check("the page sees a connect made in a terminal without a reload", true);
    check("telepresence quit in a terminal succeeds", await run(["quit"]));
    await page
      .getByTestId("status-connected")
      .filter({ hasText: /^Not connected$/ })
      .waitFor({ timeout: 15000 });
    check("the page sees a quit made in a terminal without a reload", true);
  }
  check("the page logged no errors", consoleErrors.length === 0, consoleErrors.join(" | "));
} catch (error) {
  check("the page flow ran to its end", false, String(error));
} finally {
  await browser.close();
}
process.exit(checks.exitCode());
