import { describe, expect, it } from "vitest";
import { HttpTelepresenceApi } from "./http";
import { ApiError } from "./TelepresenceApi";

interface Call {
  url: string;
  init: RequestInit;
}

function fakeFetch(status: number, body: string, calls: Call[]): typeof fetch {
  return (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(body, { status });
  }) as unknown as typeof fetch;
}

describe("HttpTelepresenceApi", () => {
  it("POSTs JSON with same-origin credentials", async () => {
    const calls: Call[] = [];
    const api = new HttpTelepresenceApi({ fetchImpl: fakeFetch(201, '{"container":"tp-run-1"}', calls) });
    const r = await api.dockerRun({
      context: "default",
      image: "nginx",
      docker_args: ["-e", "A=b c"],
      args: [],
    });
    expect(r).toEqual({ container: "tp-run-1" });
    expect(calls[0].url).toBe("/api/docker-run");
    expect(calls[0].init.method).toBe("POST");
    expect(calls[0].init.credentials).toBe("same-origin");
    expect(calls[0].init.headers).toEqual({ "Content-Type": "application/json" });
    expect(JSON.parse(String(calls[0].init.body))).toEqual({
      context: "default",
      image: "nginx",
      docker_args: ["-e", "A=b c"],
      args: [],
    });
  });

  it("puts the context in the query of GET and DELETE", async () => {
    const calls: Call[] = [];
    const api = new HttpTelepresenceApi({ fetchImpl: fakeFetch(200, "{}", calls) });
    await api.leave("my ctx", "e-1");
    await api.workloads("a&b");
    expect(calls.map((c) => c.url)).toEqual([
      "/api/engagements/e-1?context=my%20ctx",
      "/api/workloads?context=a%26b",
    ]);
    expect(calls[0].init.method).toBe("DELETE");
  });

  it("rejects with the API's error sentence verbatim", async () => {
    const api = new HttpTelepresenceApi({
      fetchImpl: fakeFetch(409, '{"error":"Not connected: run connect first."}', []),
    });
    const e = await api.workloads("default").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(409);
    expect((e as ApiError).message).toBe("Not connected: run connect first.");
  });

  it("says the server is unreachable when fetch fails", async () => {
    const api = new HttpTelepresenceApi({
      fetchImpl: (async () => {
        throw new TypeError("Failed to fetch");
      }) as unknown as typeof fetch,
    });
    const e = (await api.images().catch((x: unknown) => x)) as ApiError;
    expect(e.unreachable).toBe(true);
    expect(e.message).toMatch(/telepresence ui.*may have stopped/);
  });

  it("reopens the event stream after an error", async () => {
    const made: FakeSource[] = [];
    class FakeSource {
      onopen: (() => void) | null = null;
      onerror: (() => void) | null = null;
      closed = false;
      listeners: Record<string, (m: MessageEvent) => void> = {};
      constructor(public url: string) {
        made.push(this);
      }
      addEventListener(type: string, f: (m: MessageEvent) => void) {
        this.listeners[type] = f;
      }
      close() {
        this.closed = true;
      }
    }
    const api = new HttpTelepresenceApi({
      eventSourceImpl: FakeSource as unknown as typeof EventSource,
      minRetryMs: 1,
      maxRetryMs: 2,
    });
    const seen: unknown[] = [];
    const stop = api.subscribe((e) => seen.push(e));
    expect(made).toHaveLength(1);
    made[0].onopen?.();
    made[0].listeners.log({ data: '{"container":"c","line":"x"}' } as MessageEvent);
    made[0].onerror?.();
    expect(made[0].closed).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(made).toHaveLength(2);
    expect(seen).toEqual([
      { type: "stream", up: true },
      { type: "log", container: "c", line: "x" },
      { type: "stream", up: false },
    ]);
    stop();
    expect(made[1].closed).toBe(true);
  });
});
