import { describe, expect, it } from "vitest";
import { checkPortField, isValidPortMapping, portMappingError, splitPortMappings } from "./ports";

describe("port mappings", () => {
  it("accepts LOCAL and LOCAL:CONTAINER with ports 1..65535", () => {
    for (const ok of ["8080", "8080:9090", "1", "65535", "1:65535", " 80 "]) {
      expect(portMappingError(ok), ok).toBeNull();
    }
  });

  it("rejects everything else, saying why", () => {
    for (const bad of [
      "",
      "0",
      "65536",
      "8080:",
      ":8080",
      "a",
      "80:90:100",
      "-1",
      "8080:0",
      "1e3",
      "80 80",
      "99999",
    ]) {
      expect(isValidPortMapping(bad), bad).toBe(false);
    }
    expect(portMappingError("65536")).toMatch(/65536.*1 to 65535/);
    expect(portMappingError("8080:x")).toMatch(/Container port "x"/);
    expect(portMappingError("1:2:3")).toMatch(/LOCAL:CONTAINER/);
  });

  it("splits a field on commas and blanks", () => {
    expect(splitPortMappings(" 8080, 9090:80  7000 ")).toEqual(["8080", "9090:80", "7000"]);
    expect(splitPortMappings("   ")).toEqual([]);
  });

  it("requires a port only when asked", () => {
    expect(checkPortField("", false)).toEqual({ ports: [], error: null });
    expect(checkPortField("", true).error).toMatch(/needs a port/);
    expect(checkPortField("8080,70000", false).error).toMatch(/70000/);
    expect(checkPortField("8080 9090:80", true)).toEqual({ ports: ["8080", "9090:80"], error: null });
  });
});
