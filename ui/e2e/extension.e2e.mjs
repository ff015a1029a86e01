// The page built for the Docker Desktop extension, in a real browser (Debian's chromium, headless,
// driven by playwright-core): run by test/docker/extension.sh on the ui/ folder taken out of the
// extension image. Serves that folder on 127.0.0.1 and opens its index.html:
//   1. as in a plain browser (no window.ddClient): the page renders its title and an error saying
//      that it needs Docker Desktop, not a blank page;
//   2. with a stand-in for Docker Desktop's client (window.ddClient answering `telepresence ...`
//      as the host binary would): the page shows "Not connected", Connect streams `connect
//      --docker`, then the page shows "Connected" and the workload echo; Engage runs `telepresence
//      replace echo ... --docker-run -- IMAGE` streamed (the stand-in prints the "Engaged:" line
//      and a log line, and runs until closed): the card shows active, the log line and the note
//      about the environment; Leave closes that process and the card shows ended.
// Prints "PASS: ..." / "FAIL: ..." per check; exits 1 when a check failed. Screenshots go to
// SCREENSHOT_DIR.
//
// usage: node ui/e2e/extension.e2e.mjs UI_DIR SCREENSHOT_DIR
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { Checks, launchChromium } from "./harness.mjs";

const [uiDir, shots] = process.argv.slice(2);
if (!uiDir || !shots) {
  console.error("usage: node extension.e2e.mjs UI_DIR SCREENSHOT_DIR");
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });

const checks = new Checks();
const check = (name, ok, detail = "") => checks.check(name, ok, detail);

// A static server of UI_DIR only, on a free loopback port.
const types = { ".html": "text/html", ".js": "text/javascript", ".svg": "image/svg+xml", ".css": "text/css" };
const root = path.resolve(uiDir);
const server = http.createServer((request, response) => {
  const pathname = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
  const file = path.join(root, pathname === "/" ? "index.html" : pathname);
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    response.writeHead(404).end("not found");
    return;
  }
  response.writeHead(200, { "Content-Type": types[path.extname(file)] ?? "application/octet-stream" });
  fs.createReadStream(file).pipe(response);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const address = `http://127.0.0.1:${server.address().port}/index.html`;

const browser = await launchChromium();

// Runs in the page before its script: a stand-in for Docker Desktop's client.
function installFakeDesktop() {
  let connected = false;
  let engaged = false;
  const calls = [];
  window.__tpClosed = [];
  const status = () =>
    JSON.stringify(
      connected
        ? { connected: true, context: "default", container: "tp-default-cn", manager: "172.17.0.1:18081" }
        : { connected: false, context: "default", container: null },
    );
  const answer = (args) => {
    if (args[0] === "status") return { stdout: status(), stderr: "", code: 0 };
    if (args[0] === "contexts")
      return {
        stdout: JSON.stringify({ contexts: [{ name: "default", manager: "172.17.0.1:18081" }] }),
        stderr: "",
        code: 0,
      };
    if (args[0] === "list")
      return {
        stdout: JSON.stringify({
          workloads: [
            {
              workload: "echo",
              ports: [8080],
              mounts: [],
              engagement: engaged ? { id: "e-1", mode: "replace", name: "echo", ports: [8080] } : null,
            },
          ],
        }),
        stderr: "",
        code: 0,
      };
    if (args[0] === "connect") {
      connected = true;
      return {
        stdout: "Connected to 172.17.0.1:18081 (context default)\n",
        stderr: "Starting tp-default-cn\n",
        code: 0,
      };
    }
    return { stdout: "", stderr: `unknown command ${args[0]}\n`, code: 2 };
  };
  window.__tpCalls = calls;
  window.ddClient = {
    extension: {
      host: {
        cli: {
          exec(cmd, args, options) {
            calls.push([cmd, ...args].join(" "));
            if (args[0] === "replace" && options && options.stream) {
              // The engage process: progress, the Engaged: line, a log line; then it runs until
              // closed, and ends the way Ctrl-C ends it.
              const s = options.stream;
              setTimeout(() => s.onOutput({ stderr: "Engaging echo (replace)" }), 50);
              setTimeout(() => {
                engaged = true;
                s.onOutput({
                  stderr: "Engaged: the handler replace-echo-8080 (10.200.0.130) gets the engagement e-1",
                });
                s.onOutput({ stdout: "stand-in handler listening" });
              }, 100);
              return {
                close() {
                  window.__tpClosed.push(args.join(" "));
                  setTimeout(() => {
                    engaged = false;
                    s.onClose(130);
                  }, 50);
                },
              };
            }
            const result = answer(args);
            if (options && options.stream) {
              setTimeout(() => {
                if (result.stderr) options.stream.onOutput({ stderr: result.stderr.trimEnd() });
                if (result.stdout) options.stream.onOutput({ stdout: result.stdout.trimEnd() });
                options.stream.onClose(result.code);
              }, 50);
              return { close() {} };
            }
            return result.code === 0 ? Promise.resolve(result) : Promise.reject(result);
          },
        },
      },
    },
    docker: { listImages: () => Promise.resolve([{ RepoTags: ["tp-echo:latest"] }]) },
    desktopUI: {},
    host: {},
  };
}

try {
  // 1. No Docker Desktop.
  {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const response = await page.goto(address);
    check("the extension's index.html is served", response?.status() === 200, String(response?.status()));
    const title = page.getByRole("heading", { name: "Telepresence" });
    await title.waitFor({ timeout: 15000 }).catch(() => {});
    check("without Docker Desktop the page renders its title", await title.isVisible());
    const alert = page.getByTestId("error-alert");
    await alert.waitFor({ timeout: 15000 }).catch(() => {});
    const text = (await alert.textContent().catch(() => "")) ?? "";
    check("and says that it works only inside Docker Desktop", /only inside Docker Desktop/.test(text), text);
    check("and throws no uncaught error", errors.length === 0, errors.join("; "));
    await page.screenshot({ path: path.join(shots, "1-no-docker-desktop.png"), fullPage: true });
    await page.close();
  }

  // 2. A stand-in Docker Desktop.
  {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.addInitScript(installFakeDesktop);
    await page.goto(address);
    const chip = page.getByTestId("status-connected");
    await chip
      .getByText("Not connected")
      .waitFor({ timeout: 15000 })
      .catch(() => {});
    check(
      "with a Docker Desktop client the page shows the status (Not connected)",
      await chip.getByText("Not connected").isVisible(),
    );
    check("and shows no error", (await page.getByTestId("error-alert").count()) === 0);
    await page.getByTestId("connect-button").click();
    await chip
      .getByText("Connected", { exact: true })
      .waitFor({ timeout: 15000 })
      .catch(() => {});
    check(
      "Connect runs the host binary and the page shows Connected",
      await chip.getByText("Connected", { exact: true }).isVisible(),
    );
    const row = page.getByTestId("workload-row-echo");
    await row.waitFor({ timeout: 15000 }).catch(() => {});
    check("and lists the workload echo (list --output json)", await row.isVisible());
    const calls = await page.evaluate(() => window.__tpCalls);
    check(
      "the page ran telepresence status/connect/list with --output json where they have it",
      calls.includes("telepresence status --output json") &&
        calls.includes("telepresence connect --docker") &&
        calls.includes("telepresence list --output json"),
      calls.join(", "),
    );
    await page.screenshot({ path: path.join(shots, "2-connected.png"), fullPage: true });

    await page.getByTestId("engage-button-echo").click();
    await page.getByTestId("engage-dialog").waitFor({ timeout: 10000 });
    await page.getByTestId("engage-mode").selectOption("replace");
    await page.getByTestId("engage-image").fill("tp-echo:latest");
    await page.keyboard.press("Escape"); // closes the image list, not the dialog
    await page.getByTestId("engage-submit").click();
    const card = page.getByTestId("engagement-card-e-1");
    const state = card.getByTestId("engagement-state");
    await state
      .filter({ hasText: /^active$/ })
      .waitFor({ timeout: 15000 })
      .catch(() => {});
    check("Engage runs replace streamed and the card shows active", (await state.textContent()) === "active");
    const engageCall = (await page.evaluate(() => window.__tpCalls)).find((c) => c.includes(" replace "));
    check(
      "with the words of the command line",
      engageCall === "telepresence replace echo --context default --docker-run -- tp-echo:latest",
      String(engageCall),
    );
    const cardText = (await card.innerText().catch(() => "")) ?? "";
    check("the card shows the handler's log line", /stand-in handler listening/.test(cardText), cardText);
    check("and says where the environment is", /Not shown in the extension/.test(cardText), cardText);
    await page.screenshot({ path: path.join(shots, "3-engaged.png"), fullPage: true });
    await page.getByTestId("leave-button-e-1").click();
    await state
      .filter({ hasText: /^ended$/ })
      .waitFor({ timeout: 15000 })
      .catch(() => {});
    check(
      "Leave closes the engage process and the card shows ended",
      (await state.textContent()) === "ended",
    );
    const closed = await page.evaluate(() => window.__tpClosed);
    check("the engage process was closed once", closed.length === 1, closed.join(", "));
    check("and throws no uncaught error", errors.length === 0, errors.join("; "));
    await page.screenshot({ path: path.join(shots, "4-left.png"), fullPage: true });
    await page.close();
  }
} catch (e) {
  check("the browser run ends without an exception", false, String(e));
} finally {
  await browser.close();
  server.close();
}
process.exit(checks.exitCode());
