// What the browser tests share: Debian's chromium started headless the way this machine allows
// (no sandbox as root, no background connections to a network that is closed), and checks that
// print "PASS: ..." / "FAIL: ..." lines for the shell test that runs them (test/docker/lib.sh's
// relay_checks counts them).
import { chromium } from "playwright-core";

export async function launchChromium() {
  return chromium.launch({
    executablePath: process.env.TP_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export class Checks {
  failed = 0;

  check(name, ok, detail = "") {
    console.log(`${ok ? "PASS" : "FAIL"}: ${name}${ok || !detail ? "" : ` (${detail})`}`);
    if (!ok) this.failed += 1;
  }

  exitCode() {
    return this.failed === 0 ? 0 : 1;
  }
}
