import { isTsdltError, type SourceState } from "@tsdlt/core";
import { describe, expect, it } from "vitest";
import { current, resource, source, transformer } from "../src/index.js";
import { extract, items, rejection, useFixture } from "./helpers.js";

const fixture = useFixture();

describe("current: user state inside running resources", () => {
  it("should keep source and resource state under sources.<source>.resources.<resource>", async () => {
    const sources: Record<string, SourceState> = {};
    const pages = resource(async function* pages() {
      const state = current.resourceState();
      const next = ((state.next_page as number | undefined) ?? 0) + 1;
      yield { page: next };
      state.next_page = next;
      const shared = current.sourceState();
      shared.runs = ((shared.runs as number | undefined) ?? 0) + 1;
      expect(current.state()).toBe(shared);
      expect(current.resourceName()).toBe("pages");
      expect(current.sourceName()).toBe("s");
    });
    const first = await extract(fixture, [pages], { sources });
    expect(first.stateChanged).toBe(true);
    expect(sources).toEqual({ s: { runs: 1, resources: { pages: { next_page: 1 } } } });
    const second = await extract(fixture, [pages], { sources });
    expect(items(second.package, "pages")).toEqual([{ page: 2 }]);
    expect(sources.s?.resources?.pages?.next_page).toBe(2);
  });

  it("should use the given source name and report unchanged state", async () => {
    const sources: Record<string, SourceState> = { other: { kept: true } };
    const quiet = resource(function* quiet() {
      current.resourceState();
      yield { id: 1 };
    });
    const result = await extract(fixture, [quiet], { sources, sourceName: "github" });
    expect(result.sourceName).toBe("github");
    // creating an empty resource state is a change; a second run with the same state is not
    expect(result.stateChanged).toBe(true);
    const again = await extract(fixture, [quiet], { sources, sourceName: "github" });
    expect(again.stateChanged).toBe(false);
    expect(sources).toEqual({ other: { kept: true }, github: { resources: { quiet: {} } } });
  });

  it("should expose state to maps, filters, transformers and deferred work, and other resources' state by name", async () => {
    const sources: Record<string, SourceState> = {};
    const parent = resource(function* parent() {
      current.resourceState().seen = 0;
      yield [{ id: 1 }, { id: 2 }];
    }).addMap((item: { id: number }) => {
      const state = current.resourceState();
      state.seen = (state.seen as number) + 1;
      return item;
    });
    const child = transformer(
      async (page: { id: number }[]) => {
        await Promise.resolve();
        current.resourceState().parent_seen = current.resourceState("parent").seen;
        return page.map((p) => ({ child: p.id }));
      },
      { name: "child", dataFrom: parent },
    );
    await extract(fixture, [parent, child], { sources });
    expect(sources.s?.resources).toEqual({ parent: { seen: 2 }, child: { parent_seen: 2 } });
  });

  it("should leave the state mutated on failure: the caller discards its copy", async () => {
    const sources: Record<string, SourceState> = {};
    const bad = resource(function* bad() {
      current.sourceState().touched = true;
      yield { id: 1 };
      throw new Error("boom");
    });
    const error = await rejection(extract(fixture, [bad], { sources }));
    expect(isTsdltError(error, "EXTRACT_RESOURCE_FAILED")).toBe(true);
    expect(sources.s?.touched).toBe(true);
  });

  it("should give standalone iteration a throw-away state", async () => {
    const res = resource(function* standalone() {
      const state = current.resourceState();
      state.n = ((state.n as number | undefined) ?? 0) + 1;
      yield { n: state.n };
    });
    for (let i = 0; i < 2; i++) {
      const pages: unknown[][] = [];
      for await (const page of res.pages()) pages.push(page);
      expect(pages).toEqual([[{ n: 1 }]]);
    }
  });

  it("should say where current can be used when called outside a running resource", () => {
    expect(() => current.resourceState()).toThrow(
      /`current.resourceState\(\)` was called outside a running resource. Call it inside the resource's generator or function body/,
    );
    expect(() => current.sourceName()).toThrow(/`current.sourceName\(\)` was called outside/);
    let name: string | undefined;
    source(function named() {
      name = current.sourceName();
      return [];
    })();
    expect(name).toBe("named");
  });
});
