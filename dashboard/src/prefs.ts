// The user's remembered settings (theme, chart view, hourly rate) in localStorage under "tmon.".
// Named prefs, not store: "store" means a storage policy on the C++ side.
import type { ChartView } from "./chart";

export type ThemeName = "dark" | "light";

export const prefs = {
  get(k: string): string | null {
    try {
      return localStorage.getItem("tmon." + k);
    } catch {
      return null; // no localStorage (private mode, tests): defaults
    }
  },
  set(k: string, v: string): void {
    try {
      localStorage.setItem("tmon." + k, v);
    } catch {
      /* private mode: settings just do not persist */
    }
  },
};

export function loadView(): ChartView {
  const x = prefs.get("xMode");
  return {
    smoothing: Number(prefs.get("smoothing") ?? 0.6),
    logY: prefs.get("logY") === "1",
    xMode: x === "time" || x === "rel" ? x : "step",
  };
}

export function saveView(v: ChartView): void {
  prefs.set("smoothing", String(v.smoothing));
  prefs.set("logY", v.logY ? "1" : "0");
  prefs.set("xMode", v.xMode);
}

export const loadRate = (): number => Number(prefs.get("rate") ?? 2.5);
export const saveRate = (r: number): void => prefs.set("rate", String(r));
export const loadTheme = (): ThemeName => (prefs.get("theme") === "light" ? "light" : "dark");
export const saveTheme = (t: ThemeName): void => prefs.set("theme", t);
