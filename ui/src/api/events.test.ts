import { describe, expect, it } from "vitest";
import { parseServerEvent } from "./events";

describe("server events", () => {
  it("parses the four event types", () => {
    expect(parseServerEvent("progress", '{"action":"connect","line":"Launching"}')).toEqual({
      type: "progress",
      action: "connect",
      line: "Launching",
    });
    expect(parseServerEvent("log", '{"container":"c","line":"hi"}')).toEqual({
      type: "log",
      container: "c",
      line: "hi",
    });
    const st = parseServerEvent(
      "status",
      '{"context":"default","status":{"connected":false,"context":"default","container":null}}',
    );
    expect(st?.type).toBe("status");
    const e = parseServerEvent("engagement", '{"id":"e-1","workload":"echo","env":{"A":"1","N":2}}');
    expect(e).toEqual({
      type: "engagement",
      engagement: {
        id: "e-1",
        workload: "echo",
        mode: "",
        container: "",
        image: "",
        state: "",
        message: "",
        env: { A: "1", N: "2" },
        volumes: [],
      },
    });
  });

  it("drops what it does not understand", () => {
    expect(parseServerEvent("log", "not json")).toBeNull();
    expect(parseServerEvent("log", '{"container":1}')).toBeNull();
    expect(parseServerEvent("unknown", "{}")).toBeNull();
    expect(parseServerEvent("status", "[]")).toBeNull();
  });
});
