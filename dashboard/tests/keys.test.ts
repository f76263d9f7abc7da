import { describe, expect, it } from "vitest";
import { SHORTCUTS, helpHtml, shortcutFor } from "../src/keys";

const SHOWN: Record<string, string> = { ArrowDown: "↓", ArrowUp: "↑", Escape: "Esc" };
const id = (s: string) => s;

describe("keyboard table", () => {
  it("every bound key is named in its help row, and no key is bound twice", () => {
    const seen = new Set<string>();
    for (const s of SHORTCUTS) {
      for (const k of Object.keys(s.keys)) {
        const shown = SHOWN[k] ?? k;
        expect(s.label.split(/[\s,]+/).filter(Boolean), `'${k}' in "${s.label}"`).toContain(shown);
        expect(seen.has(k), `'${k}' bound twice`).toBe(false);
        seen.add(k);
      }
    }
    expect([...seen].sort()).toEqual(["/", "?", "ArrowDown", "ArrowUp", "Escape", "[", "]", "b", "c", "j", "k", "l", "o", "r", "t", "v", "x"].sort());
  });

  it("the help overlay lists each row of the table, in order", () => {
    const html = helpHtml(id);
    let at = 0;
    for (const s of SHORTCUTS) {
      const i = html.indexOf(`<kbd>${s.label}</kbd></td><td>${s.help}</td>`, at);
      expect(i, s.label).toBeGreaterThan(at - 1);
      at = i;
    }
    expect(html).toContain("COMMAND LINE");
  });

  it("while typing in an input only Escape acts", () => {
    expect(shortcutFor("j", false)).toBeTypeOf("function");
    expect(shortcutFor("j", true)).toBeUndefined();
    expect(shortcutFor("Escape", true)).toBeTypeOf("function");
    expect(shortcutFor("q", false)).toBeUndefined();
  });
});
