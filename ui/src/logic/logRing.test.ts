import { describe, expect, it } from "vitest";
import { LOG_LINES, appendLine, appendLines } from "./logRing";

describe("log ring", () => {
  it("keeps the last 500 lines, in order", () => {
    let lines: string[] = [];
    for (let i = 1; i <= 1234; i++) {
      lines = appendLine(lines, `line ${i}`);
    }
    expect(LOG_LINES).toBe(500);
    expect(lines).toHaveLength(500);
    expect(lines[0]).toBe("line 735");
    expect(lines[499]).toBe("line 1234");
  });

  it("does not mutate and honours other sizes", () => {
    const a = ["1", "2"];
    expect(appendLines(a, ["3", "4"], 3)).toEqual(["2", "3", "4"]);
    expect(a).toEqual(["1", "2"]);
    expect(appendLine(a, "x", 0)).toEqual([]);
  });
});
