import { ApiError, UNREACHABLE_MESSAGE, type TelepresenceApi } from "./TelepresenceApi";
import { SERVER_EVENT_TYPES, normalizeEngagement, parseServerEvent } from "./events";
import type {
  ApiEvent,
  ContextsResponse,
  DockerRunRequest,
  EngageRequest,
  Engagement,
  Status,
  Workload,
} from "./types";

type Method = "GET" | "POST" | "DELETE";

export interface HttpApiOptions {
  /** Prefix of every path; "" when the page is served by `telepresence ui` itself. */
  base?: string;
  fetchImpl?: typeof fetch;
  eventSourceImpl?: typeof EventSource;
  /** Retry delays of the event stream, in ms. */
  minRetryMs?: number;
  maxRetryMs?: number;
}

const q = (context: string) => `?context=${encodeURIComponent(context)}`;

/** The API of docs/ui.md over same-origin HTTP and Server-Sent Events. */
export class HttpTelepresenceApi implements TelepresenceApi {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly eventSourceImpl: typeof EventSource | undefined;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly handlers = new Set<(event: ApiEvent) => void>();
  private source: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryMs: number;

  constructor(options: HttpApiOptions = {}) {
    this.base = options.base ?? "";
    this.fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
    this.eventSourceImpl =
      options.eventSourceImpl ?? (typeof EventSource === "undefined" ? undefined : EventSource);
    this.minRetryMs = options.minRetryMs ?? 1000;
    this.maxRetryMs = options.maxRetryMs ?? 10000;
    this.retryMs = this.minRetryMs;
  }

  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers = { "Content-Type": "application/json" };
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await this.fetchImpl(this.base + path, init);
    } catch {
      throw new ApiError(0, UNREACHABLE_MESSAGE);
    }
    let parsed: unknown = undefined;
    const text = await response.text().catch(() => "");
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!response.ok) {
      const sentence =
        typeof parsed === "object" &&
        parsed !== null &&
        typeof (parsed as { error?: unknown }).error === "string"
          ? (parsed as { error: string }).error
          : `${method} ${path} answered ${response.status} ${response.statusText}`.trim();
      throw new ApiError(response.status, sentence);
    }
    return parsed as T;
  }

  contexts(): Promise<ContextsResponse> {
    return this.request<ContextsResponse>("GET", "/api/contexts");
  }

  status(context: string): Promise<Status> {
    return this.request<Status>("GET", `/api/status${q(context)}`);
  }

  connect(context: string): Promise<Status> {
    return this.request<Status>("POST", "/api/connect", { context });
  }

  async quit(context: string): Promise<void> {
    await this.request<unknown>("POST", "/api/quit", { context });
  }

  async workloads(context: string): Promise<Workload[]> {
    const r = await this.request<{ workloads?: Workload[] }>("GET", `/api/workloads${q(context)}`);
    return r?.workloads ?? [];
  }

  async images(): Promise<string[]> {
    const r = await this.request<{ images?: string[] }>("GET", "/api/images");
    return r?.images ?? [];
  }

  async engage(request: EngageRequest): Promise<Engagement> {
    const r = await this.request<Record<string, unknown>>("POST", "/api/engagements", request);
    return normalizeEngagement(r ?? {});
  }

  async engagements(context: string): Promise<Engagement[]> {
    const r = await this.request<{ engagements?: Record<string, unknown>[] }>(
      "GET",
      `/api/engagements${q(context)}`,
    );
    return (r?.engagements ?? []).map(normalizeEngagement);
  }

  async leave(context: string, id: string): Promise<void> {
    await this.request<unknown>("DELETE", `/api/engagements/${encodeURIComponent(id)}${q(context)}`);
  }

  dockerRun(request: DockerRunRequest): Promise<{ container: string }> {
    return this.request<{ container: string }>("POST", "/api/docker-run", request);
  }

  async stopContainer(context: string, name: string): Promise<void> {
    await this.request<unknown>("DELETE", `/api/containers/${encodeURIComponent(name)}${q(context)}`);
  }

  subscribe(handler: (event: ApiEvent) => void): () => void {
    this.handlers.add(handler);
    if (this.handlers.size === 1) {
      this.open();
    }
    return () => {
      this.handlers.delete(handler);
      if (this.handlers.size === 0) {
        this.close();
      }
    };
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

  private open(): void {
    const ES = this.eventSourceImpl;
    if (!ES) {
      this.emit({ type: "stream", up: false });
      return;
    }
    const source = new ES(this.base + "/api/events", { withCredentials: true });
    this.source = source;
    source.onopen = () => {
      this.retryMs = this.minRetryMs;
      this.emit({ type: "stream", up: true });
    };
    // The browser's own reconnect gives up on a non-200 answer; one loop with a growing delay
    // covers both that and a dropped connection.
    source.onerror = () => {
      if (this.source !== source) {
        return;
      }
      source.close();
      this.source = null;
      this.emit({ type: "stream", up: false });
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (this.handlers.size > 0) {
          this.open();
        }
      }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
    };
    for (const type of SERVER_EVENT_TYPES) {
      source.addEventListener(type, (m: MessageEvent) => {
        const event = parseServerEvent(type, typeof m.data === "string" ? m.data : "");
        if (event) {
          this.emit(event);
        }
      });
    }
  }

  private close(): void {
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.source?.close();
    this.source = null;
  }
}
