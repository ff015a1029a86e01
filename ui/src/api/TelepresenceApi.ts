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
 * Everything the page asks of `telepresence ui`. The browser build talks HTTP (HttpTelepresenceApi);
 * a Docker Desktop extension build gives its own implementation. Components only see this.
 * Every failing call rejects with an ApiError.
 */
export interface TelepresenceApi {
  contexts(): Promise<ContextsResponse>;
  status(context: string): Promise<Status>;
  connect(context: string): Promise<Status>;
  quit(context: string): Promise<void>;
  workloads(context: string): Promise<Workload[]>;
  images(): Promise<string[]>;
  engage(request: EngageRequest): Promise<Engagement>;
  engagements(context: string): Promise<Engagement[]>;
  leave(context: string, id: string): Promise<void>;
  dockerRun(request: DockerRunRequest): Promise<{ container: string }>;
  stopContainer(context: string, name: string): Promise<void>;
  /** Starts (or joins) the event stream; returns the unsubscribe function. */
  subscribe(handler: (event: ApiEvent) => void): () => void;
}

/** A failed call: `message` is the API's `error` sentence verbatim when it gave one. */
export class ApiError extends Error {
  /** The HTTP status, or 0 when the server could not be reached at all. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }

  get unreachable(): boolean {
    return this.status === 0;
  }
}

export const UNREACHABLE_MESSAGE =
  "Cannot reach telepresence ui: it may have stopped. Start it again with `telepresence ui` and open the address it prints.";

/** The words to show for any thrown value. */
export function errorText(e: unknown): string {
  if (e instanceof Error && e.message) {
    return e.message;
  }
  return String(e);
}
