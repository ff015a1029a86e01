import { describe, expect, it } from "vitest";
import { addArg, argsFromLines, argsToLines, argsToSend, moveArg, removeArg, setArg } from "./args";

describe("argument lists", () => {
  it("never splits a field on blanks or reads quotes", () => {
    expect(argsToSend(["-e", "X=a b", "--name", "'quoted thing'", "$(rm -rf /)"])).toEqual([
      "-e",
      "X=a b",
      "--name",
      "'quoted thing'",
      "$(rm -rf /)",
    ]);
  });

  it("drops only entirely empty fields", () => {
    expect(argsToSend(["", " ", "-it", ""])).toEqual([" ", "-it"]);
  });

  it("reads one argument per line", () => {
    expect(argsFromLines("--flag\nvalue with spaces\r\n\n  indented")).toEqual([
      "--flag",
      "value with spaces",
      "  indented",
    ]);
    expect(argsFromLines("")).toEqual([]);
    expect(argsFromLines(argsToLines(["a b", "c"]))).toEqual(["a b", "c"]);
  });

  it("edits fields without mutating", () => {
    const start: string[] = ["-e"];
    const added = addArg(start, "X=1");
    expect(start).toEqual(["-e"]);
    expect(added).toEqual(["-e", "X=1"]);
    expect(setArg(added, 1, "Y=2")).toEqual(["-e", "Y=2"]);
    expect(setArg(added, 5, "Y=2")).toEqual(["-e", "X=1"]);
    expect(removeArg(added, 0)).toEqual(["X=1"]);
    expect(moveArg(added, 1, -1)).toEqual(["X=1", "-e"]);
    expect(moveArg(added, 1, 1)).toEqual(["-e", "X=1"]);
  });
});
