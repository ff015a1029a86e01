// A stand-in for `telepresence ui` to try the built page without a cluster:
//   npm run build && node dev/mock-server.mjs [PORT]
// then open the printed address. It follows docs/ui.md's routes, cookie and event stream, with
// made-up answers (no docker, no daemon). Only for development; never shipped.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const port = Number(process.argv[2] ?? 7671);
const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const token = process.env.TP_UI_TOKEN ?? randomBytes(16).toString("hex");
const slow = Number(process.env.TP_UI_MOCK_DELAY_MS ?? 800);

const state = {
  connected: false,
  engagements: new Map(),
  containers: new Set(),
  workloads: [
    { name: "echo", namespace: "default", ports: [8080], engagement: null },
    { name: "web-with-a-rather-long-name", namespace: "shop", ports: [80, 443], engagement: null },
  ],
};
const streams = new Set();
let seq = 0;

const statusOf = (context) =>
  state.connected
    ? {
        connected: true,
        context,
        container: `tp-${context}`,
        manager: "172.17.0.1:18081",
        subnets: ["10.213.0.0/24", "10.96.0.0/12"],
        dns_server: "10.213.0.10",
        dns_search: ["default.svc.cluster.local", "svc.cluster.local"],
        teleroute_network: { name: `tp-${context}`, subnet: "172.30.0.0/24", daemon: `tp-${context}` },
        reconnects: 0,
        error: "",
      }
    : { connected: false, context, container: null };

function send(type, data) {
  for (const res of streams) res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function progress(action, lines) {
  for (const line of lines) {
    send("progress", { action, line });
    await sleep(slow / lines.length);
  }
}
function json(res, code, body) {
  res.writeHead(code, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}
async function body(req) {
  let s = "";
  for await (const c of req) s += c;
  return s ? JSON.parse(s) : {};
}
function logLines(container, n) {
  let i = 0;
  const t = setInterval(() => {
    if (
      !state.containers.has(container) &&
      ![...state.engagements.values()].some((e) => e.container === container && e.state !== "ended")
    ) {
      clearInterval(t);
      return;
    }
    send("log", {
      container,
      line: `${new Date().toISOString()} ${container}: request ${++i} GET /some/path?with=a-long-query-string-that-should-wrap-in-a-narrow-window`,
    });
    if (i >= n) clearInterval(t);
  }, 300);
}

const csp =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

createServer(async (req, res) => {
  res.setHeader("Content-Security-Policy", csp);
  res.setHeader("X-Content-Type-Options", "nosniff");
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.searchParams.get("token") === token) {
    res.writeHead(303, { Location: "/", "Set-Cookie": `tp_ui=${token}; HttpOnly; SameSite=Strict; Path=/` });
    return res.end();
  }
  const cookie = /(?:^|;\s*)tp_ui=([^;]*)/.exec(req.headers.cookie ?? "")?.[1];
  if (cookie !== token) {
    if (url.pathname.startsWith("/api/"))
      return json(res, 401, { error: "Open the address that `telepresence ui` printed." });
    res.writeHead(401, { "Content-Type": "text/plain" });
    return res.end("Open the address that `telepresence ui` printed.\n");
  }
  const context = url.searchParams.get("context") ?? "default";
  try {
    const p = url.pathname;
    if (p === "/api/events") {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
      res.write(": hello\n\n");
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    if (p === "/api/contexts")
      return json(res, 200, {
        contexts: [
          {
            name: "default",
            manager: "172.17.0.1:18081",
            cluster_network: "tp-demo",
            cluster_subnets: ["10.213.0.0/24"],
          },
          { name: "staging", manager: "10.0.0.5:8081", cluster_network: "tp-staging", cluster_subnets: [] },
        ],
        default: "default",
      });
    if (p === "/api/status") return json(res, 200, statusOf(context));
    if (p === "/api/connect" && req.method === "POST") {
      const b = await body(req);
      await progress("connect", [
        "Launching Telepresence daemon container tp-default",
        "Connecting to the traffic manager at 172.17.0.1:18081",
        "Connected to context default",
      ]);
      if (b.context === "staging")
        return json(res, 500, {
          error:
            "Cannot reach the traffic manager at 10.0.0.5:8081: connection refused. Is the cluster running? (telepresence quit, then connect again)",
        });
      state.connected = true;
      send("status", { context: b.context ?? "default", status: statusOf(b.context ?? "default") });
      return json(res, 200, statusOf(b.context ?? "default"));
    }
    if (p === "/api/quit" && req.method === "POST") {
      const b = await body(req);
      await progress("quit", ["Stopping the daemon container"]);
      state.connected = false;
      for (const e of state.engagements.values())
        if (e.state !== "ended") {
          e.state = "ended";
          e.message = "The daemon quit.";
          send("engagement", e);
        }
      for (const w of state.workloads) w.engagement = null;
      send("status", { context: b.context ?? "default", status: statusOf(b.context ?? "default") });
      return json(res, 200, {});
    }
    if (p === "/api/workloads") {
      if (!state.connected) return json(res, 409, { error: "Not connected: connect first." });
      return json(res, 200, { workloads: state.workloads });
    }
    if (p === "/api/images")
      return json(res, 200, { images: ["busybox:latest", "nginx:1.27", "tp-echo:latest"] });
    if (p === "/api/engagements" && req.method === "GET")
      return json(res, 200, { engagements: [...state.engagements.values()] });
    if (p === "/api/engagements" && req.method === "POST") {
      const b = await body(req);
      console.log("engage", JSON.stringify(b));
      const w = state.workloads.find((x) => x.name === b.workload);
      if (!w)
        return json(res, 400, { error: `workload: no workload named "${b.workload}" with a traffic-agent.` });
      if (b.image === "fail") {
        await progress("engage", ["Pulling fail", "Error response from daemon"]);
        return json(res, 500, {
          error: 'docker run failed: Unable to find image "fail:latest" locally. Build or pull it first.',
        });
      }
      const id = `e-${++seq}`;
      const port = String(b.ports?.[0] ?? w.ports[0] ?? "").split(":")[0];
      const e = {
        id,
        workload: w.name,
        mode: b.mode,
        container: `${b.mode}-${w.name}-${port}`,
        image: b.image ?? `built from ${b.build_folder}`,
        state: "starting",
        message: "",
        env: {},
        volumes: [],
      };
      state.engagements.set(id, e);
      send("engagement", e);
      await progress("engage", [`Using ${e.image}`, `Starting ${e.container}`]);
      Object.assign(e, {
        state: "active",
        env: {
          KUBERNETES_SERVICE_HOST: "10.96.0.1",
          TELEPRESENCE_CONTAINER: w.name,
          LONG_VALUE: "x".repeat(120),
        },
        volumes: [{ name: `${e.container}-secrets`, path: "/var/run/secrets/kubernetes.io" }],
      });
      w.engagement = { id, mode: b.mode, ports: b.ports };
      send("engagement", e);
      logLines(e.container, 1000);
      return json(res, 201, e);
    }
    let m = /^\/api\/engagements\/([^/]+)$/.exec(p);
    if (m && req.method === "DELETE") {
      const e = state.engagements.get(decodeURIComponent(m[1]));
      if (!e) return json(res, 404, { error: `No engagement ${m[1]}.` });
      await progress("leave", [`Stopping ${e.container}`]);
      e.state = "ended";
      e.message = "Left.";
      for (const w of state.workloads) if (w.engagement?.id === e.id) w.engagement = null;
      send("engagement", e);
      return json(res, 200, {});
    }
    if (p === "/api/docker-run" && req.method === "POST") {
      const b = await body(req);
      console.log("docker-run", JSON.stringify(b));
      if (!state.connected) return json(res, 409, { error: "Not connected: connect first." });
      await progress("docker-run", [`Starting ${b.image}`]);
      const name = `tp-run-${++seq}`;
      state.containers.add(name);
      logLines(name, 30);
      return json(res, 201, { container: name });
    }
    m = /^\/api\/containers\/([^/]+)$/.exec(p);
    if (m && req.method === "DELETE") {
      state.containers.delete(decodeURIComponent(m[1]));
      return json(res, 200, {});
    }
    if (p.startsWith("/api/")) return json(res, 404, { error: `No route ${req.method} ${p}.` });
    const file = normalize(join(dist, p === "/" ? "index.html" : p));
    if (!file.startsWith(dist)) return json(res, 403, { error: "no" });
    const data = await readFile(file).catch(() => null);
    if (!data) return json(res, 404, { error: "not found" });
    const type =
      { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" }[extname(file)] ??
      "application/octet-stream";
    res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store" });
    res.end(data);
  } catch (e) {
    json(res, 500, { error: String(e) });
  }
}).listen(port, "127.0.0.1", () =>
  console.log(`Telepresence UI (mock): http://127.0.0.1:${port}/?token=${token}`),
);
