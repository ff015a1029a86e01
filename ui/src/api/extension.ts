import { ApiError, errorText, type TelepresenceApi } from "./TelepresenceApi";
import type {
  ApiEvent,
  ContextInfo,
  ContextsResponse,
  DockerRunRequest,
  EngageRequest,
  Engagement,
  Status,
  Workload,
} from "./types";

/**
 * The page inside Docker Desktop: the same TelepresenceApi, served by the extension's host binary
 * `telepresence` through the extension SDK (`ddClient.extension.host.cli.exec`) and by Docker
 * Desktop's own engine client (`ddClient.docker.listImages`). There is no server and no event
 * stream: `status` events follow each action and a poll (at most every 5 s, only while the tab is
 * visible); `connect` and `quit` stream their stderr lines as `progress` events. Engagements run
 * the CLI's own `MODE WORKLOAD ... --docker-run|--docker-build DIR -- ...` streamed for as long as
 * they last (leaving closes that process, as Ctrl-C in a terminal would); docker-run runs
 * `telepresence docker-run -- --detach ...` and follows the container with `docker logs -f`.
 * extensionClient.ts binds it to Docker Desktop's client (`@docker/extension-api-client`); this
 * file has no import of it, so that its tests run without a Docker Desktop.
 */

/** What one finished command gave: Docker Desktop's ExecResult (or the value it rejects with). */
export interface ExecOutput {
  stdout?: string;
  stderr?: string;
  code?: number;
}

export interface StreamCallbacks {
  onOutput?: (data: { stdout?: string; stderr?: string }) => void;
  onError?: (error: unknown) => void;
  onClose?: (exitCode: number) => void;
  splitOutputLines?: boolean;
}

/** What a streamed exec returns (Docker Desktop's ExecProcess): close() ends the process. */
export interface ExecProcess {
  close(): void;
}

/** Docker Desktop's exec: a promise of an ExecOutput, or with `stream` an ExecProcess. */
export interface DesktopExec {
  exec(cmd: string, args: string[], options?: { stream: StreamCallbacks }): unknown;
}

/** The part of Docker Desktop's client (`window.ddClient`, API v1) that this file uses. */
export interface DesktopClient {
  extension: { host?: { cli: DesktopExec } };
  /** `cli` runs the docker CLI: `docker logs -f`, `docker rm -f` of the docker-run containers. */
  docker: { listImages(options?: unknown): Promise<unknown>; cli?: DesktopExec };
}

export const HOST_BINARY = "telepresence";
export const POLL_MS = 5000;

/** How long leave() waits for the engage process to end once closed, before `telepresence leave`. */
export const LEAVE_MS = 60_000;
/** The stdout lines of a handler kept until its container's name is known (the "Engaged:" line). */
const EARLY_LOG_LINES = 500;

/** What the extension cannot show of an engagement: the CLI keeps env and volumes to itself. */
export function engagementNote(container: string): string {
  return (
    "Not shown in the extension: the handler container got the workload's environment " +
    "(docker run --env-file, a private file of the CLI) and its volumes; " +
    `docker inspect ${container || "CONTAINER"} shows them.`
  );
}
export const NO_DOCKER_DESKTOP =
  "This page is the Telepresence extension of Docker Desktop and works only inside Docker Desktop " +
  "(it found no Docker Desktop client). Install the extension with docker extension install, or " +
  "run telepresence ui for the page in a browser.";
export const NO_HOST_BINARY =
  "Docker Desktop gave this extension no host binaries: reinstall the extension " +
  "(docker extension install telepresence-docker-extension) and open its tab again.";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The words of a failed `telepresence ARGS`: its last stderr line, which names the fix. */
export function commandErrorText(args: string[], output: unknown): string {
  if (isObject(output)) {
    const stderr = typeof output.stderr === "string" ? output.stderr : "";
    const lines = stderr
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "");
    if (lines.length > 0) {
      return lines[lines.length - 1];
    }
    if (typeof output.code === "number") {
      return `telepresence ${args.join(" ")} failed with exit code ${output.code} and said nothing.`;
    }
  }
  if (output instanceof Error && output.message) {
    return `telepresence ${args.join(" ")} could not run: ${output.message}`;
  }
  const text = errorText(output);
  return `telepresence ${args.join(" ")} could not run${text && text !== "[object Object]" ? `: ${text}` : "."}`;
}

/** The ApiError of a failed command: 409 when it says the context is not connected, else 500. */
export function commandError(args: string[], output: unknown): ApiError {
  const sentence = commandErrorText(args, output);
  return new ApiError(/\bnot connected\b/.test(sentence) ? 409 : 500, sentence);
}

/** One JSON object out of a command's stdout. */
export function parseJsonOutput(args: string[], stdout: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch {
    throw new ApiError(500, `telepresence ${args.join(" ")} printed no JSON: ${stdout.slice(0, 200)}`);
  }
  if (!isObject(v)) {
    throw new ApiError(500, `telepresence ${args.join(" ")} printed JSON that is not an object.`);
  }
  return v;
}

/** `status --output json` as a Status (only `connected`, `context`, `container` are sure). */
export function toStatus(context: string, v: Record<string, unknown>): Status {
  return {
    ...v,
    connected: v.connected === true,
    context: typeof v.context === "string" ? v.context : context,
    container: typeof v.container === "string" ? v.container : null,
  } as Status;
}

/** `list --output json` as the workloads. */
export function toWorkloads(v: Record<string, unknown>): Workload[] {
  if (!Array.isArray(v.workloads)) {
    return [];
  }
  return v.workloads.filter(isObject).map((w) => ({
    workload: typeof w.workload === "string" ? w.workload : "",
    ports: Array.isArray(w.ports) ? w.ports.filter((p): p is number => typeof p === "number") : [],
    mounts: Array.isArray(w.mounts) ? w.mounts.filter((m): m is string => typeof m === "string") : [],
    engagement: isObject(w.engagement) ? (w.engagement as unknown as Workload["engagement"]) : null,
  }));
}

/** Docker's image list (`RepoTags` of each) as the tagged names, sorted, without `<none>`. */
export function imageNames(list: unknown): string[] {
  const names = new Set<string>();
  if (Array.isArray(list)) {
    for (const image of list) {
      const tags = isObject(image) ? (image.RepoTags ?? image.repoTags) : undefined;
      if (Array.isArray(tags)) {
        for (const t of tags) {
          if (typeof t === "string" && t !== "" && !t.includes("<none>")) {
            names.add(t);
          }
        }
      }
    }
  }
  return [...names].sort();
}

/** The words of an engagement, as cli/ui_engagements.cc's EngageWords makes them. */
export function engageWords(r: EngageRequest): string[] {
  const words = [r.mode, r.workload, "--context", r.context || "default"];
  for (const port of r.ports) {
    words.push("--port", port);
  }
  if (r.build_folder) {
    words.push("--docker-build", r.build_folder);
  } else {
    words.push("--docker-run");
  }
  words.push("--", ...r.docker_args, r.build_folder ? "IMAGE" : (r.image ?? ""), ...r.args);
  return words;
}

/** The words of `telepresence docker-run`, detached: its stdout is the container's id. */
export function dockerRunWords(r: DockerRunRequest): string[] {
  return [
    "docker-run",
    "--context",
    r.context || "default",
    "--",
    "--detach",
    ...r.docker_args,
    r.image,
    ...r.args,
  ];
}

export interface EngagedLine {
  container: string;
  address: string;
  id: string;
}

/** `Engaged: the handler CONTAINER (ADDRESS) gets the engagement ID` (cli/engage.cc), or null. */
export function parseEngagedLine(line: string): EngagedLine | null {
  const m = /^Engaged: the handler (\S+) \(([^)]*)\) gets the engagement (\S+)\s*$/.exec(line.trim());
  return m ? { container: m[1], address: m[2], id: m[3] } : null;
}

/** A CLI sentence without its `telepresence:` / `telepresence MODE:` prefix; null if it has none. */
export function withoutCommandPrefix(line: string): string | null {
  const m = /^telepresence(?: [\w-]+)?: (.+)$/.exec(line.trim());
  return m ? m[1] : null;
}

/**
 * Why an engagement ended, from the last stderr line of its process: the CLI's own sentence when
 * it said one, else how the handler container ended.
 */
export function endedMessage(lastLine: string, container: string, exitCode: number): string {
  const own = withoutCommandPrefix(lastLine);
  if (own !== null) {
    return own;
  }
  return `the handler container ${container ? container + " " : ""}ended (exit code ${exitCode})`;
}

/** Why an engage process failed before the engagement was active. */
export function engageFailedMessage(mode: string, lastLine: string, exitCode: number): string {
  const own = withoutCommandPrefix(lastLine);
  if (own !== null) {
    return own;
  }
  if (lastLine.trim() !== "") {
    return lastLine.trim();
  }
  return `telepresence ${mode} ended (exit code ${exitCode}) before the engagement was active, and said nothing.`;
}

/** The container id that `docker run --detach` printed: the last line of stdout. */
export function containerIdOf(stdout: string): string | null {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const last = lines[lines.length - 1] ?? "";
  return /^[0-9a-f]{12,64}$/.test(last) ? last : null;
}

function isExecProcess(v: unknown): v is ExecProcess {
  return isObject(v) && typeof v.close === "function";
}

/** One line of a streamed output, without its newline; null when blank. */
function lineOf(text: string | undefined): string | null {
  if (typeof text !== "string") {
    return null;
  }
  const line = text.replace(/\r?\n$/, "");
  return line.trim() === "" ? null : line;
}

const withContext = (context: string): string[] =>
  context && context !== "default" ? ["--context", context] : [];

export interface ExtensionApiOptions {
  pollMs?: number;
  /** How long leave() waits for the engage process to end (default LEAVE_MS). */
  leaveMs?: number;
  /** Whether the tab is visible now (default: document.visibilityState). */
  visible?: () => boolean;
}

/** An engagement this page started: its engage process, running while the engagement lasts. */
interface OwnEngagement {
  context: string;
  engagement: Engagement;
  process: ExecProcess | null;
  leaving: boolean;
  /** Resolves when the process ended. */
  ended: Promise<void>;
}

export class ExtensionTelepresenceApi implements TelepresenceApi {
  private readonly handlers = new Set<(event: ApiEvent) => void>();
  private readonly own = new Map<string, OwnEngagement>();
  /** The docker-run containers this page started, with their `docker logs -f` (null once it ended). */
  private readonly containers = new Map<string, ExecProcess | null>();
  private readonly leaveMs: number;
  private readonly pollMs: number;
  private readonly visible: () => boolean;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private lastContext = "default";
  private lastStatus = "";

  /** client is null outside Docker Desktop: then every call fails saying so. */
  constructor(
    private readonly client: DesktopClient | null,
    options: ExtensionApiOptions = {},
  ) {
    this.pollMs = options.pollMs ?? POLL_MS;
    this.leaveMs = options.leaveMs ?? LEAVE_MS;
    this.visible =
      options.visible ?? (() => typeof document === "undefined" || document.visibilityState === "visible");
  }

  private desktop(): DesktopClient {
    if (!this.client) {
      throw new ApiError(503, NO_DOCKER_DESKTOP);
    }
    return this.client;
  }

  private dockerCli(): DesktopExec {
    const cli = this.desktop().docker.cli;
    if (!cli) {
      throw new ApiError(503, "Docker Desktop gave this extension no docker CLI (ddClient.docker.cli).");
    }
    return cli;
  }

  private cli(): DesktopExec {
    const host = this.desktop().extension.host;
    if (!host) {
      throw new ApiError(503, NO_HOST_BINARY);
    }
    return host.cli;
  }

  /** Runs `telepresence ARGS` on the host; resolves with its stdout, rejects with its stderr. */
  async run(args: string[]): Promise<string> {
    const cli = this.cli();
    let output: ExecOutput;
    try {
      output = (await cli.exec(HOST_BINARY, args)) as ExecOutput;
    } catch (e) {
      throw commandError(args, e);
    }
    if (typeof output?.code === "number" && output.code !== 0) {
      throw commandError(args, output);
    }
    return typeof output?.stdout === "string" ? output.stdout : "";
  }

  /** Runs `telepresence ARGS` streaming its output: each stderr line becomes a progress event. */
  stream(action: string, args: string[]): Promise<string> {
    const cli = this.cli();
    return new Promise((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      let done = false;
      const finish = (f: () => void) => {
        if (!done) {
          done = true;
          f();
        }
      };
      try {
        cli.exec(HOST_BINARY, args, {
          stream: {
            splitOutputLines: true,
            onOutput: (data) => {
              if (typeof data.stdout === "string") {
                stdout += data.stdout.endsWith("\n") ? data.stdout : data.stdout + "\n";
              }
              if (typeof data.stderr === "string") {
                stderr += data.stderr.endsWith("\n") ? data.stderr : data.stderr + "\n";
                const line = data.stderr.replace(/\n$/, "");
                if (line.trim() !== "") {
                  this.emit({ type: "progress", action, line });
                }
              }
            },
            onError: (error) => finish(() => reject(commandError(args, error))),
            onClose: (code) =>
              finish(() => (code === 0 ? resolve(stdout) : reject(commandError(args, { stderr, code })))),
          },
        });
      } catch (e) {
        finish(() => reject(commandError(args, e)));
      }
    });
  }

  async contexts(): Promise<ContextsResponse> {
    const args = ["contexts", "--output", "json"];
    const listed = parseJsonOutput(args, await this.run(args)) as { contexts?: ContextInfo[] };
    const contexts = Array.isArray(listed.contexts) ? listed.contexts : [];
    const names = contexts.map((c) => c.name);
    return { contexts, default: names.includes("default") || names.length === 0 ? "default" : names[0] };
  }

  async status(context: string): Promise<Status> {
    this.lastContext = context;
    const args = ["status", ...withContext(context), "--output", "json"];
    const status = toStatus(context, parseJsonOutput(args, await this.run(args)));
    this.lastStatus = JSON.stringify(status);
    return status;
  }

  async connect(context: string): Promise<Status> {
    await this.action(context, "connect", ["connect", "--docker", ...withContext(context)]);
    return JSON.parse(this.lastStatus) as Status;
  }

  async quit(context: string): Promise<void> {
    await this.action(context, "quit", ["quit", ...withContext(context)]);
  }

  /** An action that prints text: streamed, then the status (as an event too), even when it failed. */
  private async action(context: string, action: string, args: string[]): Promise<void> {
    let failure: unknown = null;
    try {
      await this.stream(action, args);
    } catch (e) {
      failure = e;
    }
    try {
      const status = await this.status(context);
      this.emit({ type: "status", context, status });
    } catch (e) {
      failure ??= e;
    }
    if (failure !== null) {
      throw failure;
    }
  }

  async workloads(context: string): Promise<Workload[]> {
    const args = ["list", ...withContext(context), "--output", "json"];
    return toWorkloads(parseJsonOutput(args, await this.run(args)));
  }

  async images(): Promise<string[]> {
    const docker = this.desktop().docker;
    try {
      return imageNames(await docker.listImages());
    } catch (e) {
      throw new ApiError(500, `Docker Desktop did not list the images: ${errorText(e)}`);
    }
  }

  engage(request: EngageRequest): Promise<Engagement> {
    let cli: DesktopExec;
    try {
      cli = this.cli();
    } catch (e) {
      return Promise.reject(e);
    }
    const words = engageWords(request);
    return new Promise((resolve, reject) => {
      let lastLine = "";
      let endedResolve: () => void = () => {};
      const ended = new Promise<void>((r) => (endedResolve = r));
      let own: OwnEngagement | null = null;
      let handle: ExecProcess | null = null;
      let early: string[] = [];
      let done = false;
      const onLine = (stream: "stdout" | "stderr", line: string) => {
        if (done) {
          return;
        }
        if (stream === "stdout") {
          if (own) {
            this.emit({ type: "log", container: own.engagement.container, line });
          } else if (early.length < EARLY_LOG_LINES) {
            early.push(line);
          }
          return;
        }
        lastLine = line;
        if (own) {
          // The handler's docker run writes its stderr here too: the container's log.
          this.emit({ type: "log", container: own.engagement.container, line });
          return;
        }
        this.emit({ type: "progress", action: "engage", line });
        const engaged = parseEngagedLine(line);
        if (engaged) {
          own = {
            context: request.context,
            engagement: {
              id: engaged.id,
              workload: request.workload,
              mode: request.mode,
              container: engaged.container,
              image: request.build_folder ? `built from ${request.build_folder}` : (request.image ?? ""),
              state: "active",
              message: "",
              env: {},
              volumes: [],
              note: engagementNote(engaged.container),
            },
            process: handle,
            leaving: false,
            ended,
          };
          this.own.set(engaged.id, own);
          this.emit({ type: "engagement", engagement: own.engagement });
          for (const l of early) {
            this.emit({ type: "log", container: engaged.container, line: l });
          }
          early = [];
          resolve(own.engagement);
        }
      };
      const onEnd = (exitCode: number, failure: string | null) => {
        if (done) {
          return;
        }
        done = true;
        if (own) {
          const message = own.leaving
            ? "left from the page"
            : (failure ?? endedMessage(lastLine, own.engagement.container, exitCode));
          own.engagement = { ...own.engagement, state: "ended", message };
          own.process = null;
          this.emit({ type: "engagement", engagement: own.engagement });
        } else {
          const message = failure ?? engageFailedMessage(request.mode, lastLine, exitCode);
          reject(new ApiError(exitCode === 2 ? 400 : /\bnot connected\b/.test(message) ? 409 : 500, message));
        }
        endedResolve();
      };
      try {
        const h = cli.exec(HOST_BINARY, words, {
          stream: {
            splitOutputLines: true,
            onOutput: (data) => {
              const out = lineOf(data.stdout);
              if (out !== null) {
                onLine("stdout", out);
              }
              const err = lineOf(data.stderr);
              if (err !== null) {
                onLine("stderr", err);
              }
            },
            onError: (error) => onEnd(-1, commandErrorText(words, error)),
            onClose: (code) => onEnd(code, null),
          },
        });
        handle = isExecProcess(h) ? h : null;
        if (own !== null) {
          (own as OwnEngagement).process = handle;
        }
      } catch (e) {
        onEnd(-1, commandErrorText(words, e));
      }
    });
  }

  async engagements(context: string): Promise<Engagement[]> {
    this.desktop();
    // Those this page started (since it was opened).
    return [...this.own.values()].filter((o) => o.context === context).map((o) => o.engagement);
  }

  async leave(context: string, id: string): Promise<void> {
    this.desktop();
    const own = this.own.get(id);
    if (!own) {
      // Not started by this page (or by this page before a reload): the CLI's own leave.
      await this.leaveByName(context, id, true);
      return;
    }
    if (own.engagement.state === "ended") {
      return;
    }
    own.leaving = true;
    this.emit({ type: "progress", action: "leave", line: `Stopping ${own.engagement.container}` });
    try {
      own.process?.close();
    } catch {
      // The process is gone already: its onClose says so.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      own.ended.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), this.leaveMs))),
    ]);
    clearTimeout(timer);
    // When the process was killed before it could clean up, the engagement is still there.
    try {
      await this.leaveByName(context, id, false);
    } catch (e) {
      if (!closed) {
        throw new ApiError(
          500,
          `telepresence ${own.engagement.mode} did not end within ${Math.round(this.leaveMs / 1000)} s of ` +
            `closing it, and telepresence leave failed: ${errorText(e)}`,
        );
      }
    }
    if (!closed) {
      own.process = null;
      own.engagement = { ...own.engagement, state: "ended", message: "left from the page" };
      this.emit({ type: "engagement", engagement: own.engagement });
    }
  }

  /** `telepresence leave NAME` of the engagement ID, NAME from `list`; mustExist: fail when none. */
  private async leaveByName(context: string, id: string, mustExist: boolean): Promise<void> {
    let workloads: Workload[];
    try {
      workloads = await this.workloads(context);
    } catch (e) {
      if (!mustExist && e instanceof ApiError && e.status === 409) {
        return; // no daemon: no engagement either
      }
      throw e;
    }
    const found = workloads.find((w) => w.engagement?.id === id);
    if (!found?.engagement) {
      if (mustExist) {
        throw new ApiError(404, `no engagement ${id} in context ${context} (telepresence list shows none)`);
      }
      return;
    }
    await this.stream("leave", [
      "leave",
      found.engagement.name || found.workload,
      "--context",
      context || "default",
    ]);
  }

  async dockerRun(request: DockerRunRequest): Promise<{ container: string }> {
    const docker = this.dockerCli();
    const args = dockerRunWords(request);
    const stdout = await this.stream("docker-run", args);
    const id = containerIdOf(stdout);
    if (!id) {
      throw new ApiError(
        500,
        `telepresence docker-run printed no container id: ${stdout.trim().slice(0, 200)}`,
      );
    }
    const name = id.slice(0, 12);
    this.containers.set(name, null);
    try {
      const h = docker.exec("logs", ["-f", name], {
        stream: {
          splitOutputLines: true,
          onOutput: (data) => {
            for (const text of [data.stdout, data.stderr]) {
              const line = lineOf(text);
              if (line !== null) {
                this.emit({ type: "log", container: name, line });
              }
            }
          },
          onError: (error) =>
            this.emit({ type: "log", container: name, line: `(docker logs failed: ${errorText(error)})` }),
          onClose: () => {
            if (this.containers.has(name)) {
              this.containers.set(name, null);
            }
          },
        },
      });
      if (isExecProcess(h) && this.containers.has(name)) {
        this.containers.set(name, h);
      }
    } catch (e) {
      this.emit({ type: "log", container: name, line: `(docker logs could not run: ${errorText(e)})` });
    }
    return { container: name };
  }

  async stopContainer(_context: string, name: string): Promise<void> {
    const docker = this.dockerCli();
    if (!this.containers.has(name)) {
      throw new ApiError(404, `${name} is not a container this page started`);
    }
    const follow = this.containers.get(name);
    this.containers.delete(name);
    try {
      follow?.close();
    } catch {
      // already ended
    }
    let output: ExecOutput;
    try {
      output = (await docker.exec("rm", ["-f", name])) as ExecOutput;
    } catch (e) {
      output = isObject(e) ? (e as ExecOutput) : { stderr: errorText(e), code: 1 };
    }
    if (typeof output?.code === "number" && output.code !== 0) {
      const lines = (output.stderr ?? "").trim().split("\n");
      throw new ApiError(
        500,
        `docker rm -f ${name} failed: ${lines[lines.length - 1] || `exit code ${output.code}`}`,
      );
    }
  }

  subscribe(handler: (event: ApiEvent) => void): () => void {
    this.handlers.add(handler);
    if (this.handlers.size === 1 && this.client && this.pollMs > 0) {
      this.pollTimer = setInterval(() => void this.poll(), this.pollMs);
    }
    return () => {
      this.handlers.delete(handler);
      if (this.handlers.size === 0 && this.pollTimer !== null) {
        clearInterval(this.pollTimer);
        this.pollTimer = null;
      }
    };
  }

  /** One poll: the status of the last context, as an event when it changed. */
  async poll(): Promise<void> {
    if (!this.visible()) {
      return;
    }
    const before = this.lastStatus;
    const context = this.lastContext;
    try {
      const status = await this.status(context);
      if (JSON.stringify(status) !== before) {
        this.emit({ type: "status", context, status });
      }
    } catch {
      // The next action or poll says what is wrong; a poll shows no error of its own.
    }
  }

  private emit(event: ApiEvent): void {
    for (const h of [...this.handlers]) {
      try {
        h(event);
      } catch (e) {
        console.error("event handler failed", e);
      }
    }
  }
}
