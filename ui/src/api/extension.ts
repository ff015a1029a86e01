import { ApiError, errorText, type TelepresenceApi } from "./TelepresenceApi";
import type {
  ApiEvent,
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
 * visible); `connect` and `quit` stream their stderr lines as `progress` events.
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

/** The part of Docker Desktop's client (`window.ddClient`, API v1) that this file uses. */
export interface DesktopClient {
  extension: {
    host?: {
      cli: {
        exec(cmd: string, args: string[], options?: { stream: StreamCallbacks }): unknown;
      };
    };
  };
  docker: { listImages(options?: unknown): Promise<unknown> };
}

export const HOST_BINARY = "telepresence";
export const POLL_MS = 5000;

export const NOT_IN_EXTENSION_YET =
  "not available in the extension yet: use telepresence replace in a terminal";
export const NOT_IN_EXTENSION_YET_DOCKER_RUN =
  "not available in the extension yet: use telepresence docker-run in a terminal";
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

const withContext = (context: string): string[] =>
  context && context !== "default" ? ["--context", context] : [];

export interface ExtensionApiOptions {
  pollMs?: number;
  /** Whether the tab is visible now (default: document.visibilityState). */
  visible?: () => boolean;
}

export class ExtensionTelepresenceApi implements TelepresenceApi {
  private readonly handlers = new Set<(event: ApiEvent) => void>();
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
    this.visible =
      options.visible ?? (() => typeof document === "undefined" || document.visibilityState === "visible");
  }

  private desktop(): DesktopClient {
    if (!this.client) {
      throw new ApiError(503, NO_DOCKER_DESKTOP);
    }
    return this.client;
  }

  private cli(): NonNullable<DesktopClient["extension"]["host"]>["cli"] {
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
    this.desktop();
    // The CLI has no command that lists the contexts yet: the default one.
    return { contexts: [{ name: "default" }], default: "default" };
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

  async engage(_request: EngageRequest): Promise<Engagement> {
    this.desktop();
    throw new ApiError(501, NOT_IN_EXTENSION_YET);
  }

  async engagements(_context: string): Promise<Engagement[]> {
    this.desktop();
    // Those this page started: none, since it cannot start one yet.
    return [];
  }

  async leave(_context: string, _id: string): Promise<void> {
    this.desktop();
    throw new ApiError(501, NOT_IN_EXTENSION_YET);
  }

  async dockerRun(_request: DockerRunRequest): Promise<{ container: string }> {
    this.desktop();
    throw new ApiError(501, NOT_IN_EXTENSION_YET_DOCKER_RUN);
  }

  async stopContainer(_context: string, _name: string): Promise<void> {
    this.desktop();
    throw new ApiError(501, NOT_IN_EXTENSION_YET_DOCKER_RUN);
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
