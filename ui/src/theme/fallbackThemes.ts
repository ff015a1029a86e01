/*
 * The theme of the standalone page.
 *
 * Inside Docker Desktop, the extension's page gets Docker's own MUI theme options injected as
 * `window.__ddMuiV6Themes`, and @docker/docker-mui-theme's DockerMuiV6ThemeProvider builds the
 * theme from them (it throws when they are absent). Served by `telepresence ui` in a plain browser
 * nothing injects them, so installFallbackThemes() puts this small theme of our own there first:
 * Docker's blue, system fonts (no font file is ever fetched), compact spacing for narrow windows.
 * Themes Docker Desktop injected are kept.
 */
import type { ThemeOptions } from "@mui/material";

export interface ThemeOptionsBag {
  readonly dark: ThemeOptions;
  readonly light: ThemeOptions;
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

function themeFor(mode: "light" | "dark"): ThemeOptions {
  const dark = mode === "dark";
  return {
    palette: {
      mode,
      primary: { main: dark ? "#3d8bff" : "#1d63ed", contrastText: "#ffffff" },
      secondary: { main: dark ? "#9aa7b8" : "#5c6b7e" },
      error: { main: dark ? "#f26a6a" : "#c62828" },
      warning: { main: dark ? "#f5b94a" : "#a85d00" },
      success: { main: dark ? "#4fc38a" : "#2e7d32" },
      background: dark ? { default: "#1c1f24", paper: "#24282f" } : { default: "#f4f5f7", paper: "#ffffff" },
      divider: dark ? "rgba(255,255,255,0.12)" : "rgba(0,0,0,0.12)",
    },
    shape: { borderRadius: 4 },
    typography: {
      fontFamily: FONT,
      fontSize: 14,
      button: { textTransform: "none", fontWeight: 600 },
      h1: { fontSize: "1.6rem", fontWeight: 500 },
      h2: { fontSize: "1.3rem", fontWeight: 500 },
      h3: { fontSize: "1.15rem", fontWeight: 600 },
      h4: { fontSize: "1.05rem", fontWeight: 600 },
      h5: { fontSize: "1rem", fontWeight: 600 },
      h6: { fontSize: "1rem", fontWeight: 600 },
    },
    components: {
      MuiButton: { defaultProps: { disableElevation: true } },
      MuiPaper: { defaultProps: { variant: "outlined" } },
      MuiCssBaseline: { styleOverrides: { body: { padding: "8px" } } },
    },
  };
}

export const fallbackThemes: ThemeOptionsBag = { light: themeFor("light"), dark: themeFor("dark") };

type WithThemes = { __ddMuiV6Themes?: ThemeOptionsBag };

/** Makes DockerMuiV6ThemeProvider work outside Docker Desktop; keeps themes Docker Desktop injected. */
export function installFallbackThemes(w: object = window): void {
  const target = w as WithThemes;
  if (!target.__ddMuiV6Themes) target.__ddMuiV6Themes = fallbackThemes;
}
