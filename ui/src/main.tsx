import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import CssBaseline from "@mui/material/CssBaseline";
import { DockerMuiV6ThemeProvider } from "@docker/docker-mui-theme";
import { HttpTelepresenceApi } from "./api/http";
import type { TelepresenceApi } from "./api/TelepresenceApi";
import { ApiContext } from "./components/ApiContext";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { installFallbackThemes } from "./theme/fallbackThemes";
import { App } from "./App";

installFallbackThemes();

/**
 * The browser build talks HTTP to `telepresence ui`; the Docker Desktop extension build (`vite build
 * --mode extension`) talks to the extension's host binary. The mode is a constant of the build, so
 * the browser bundle holds no code of the extension's.
 */
async function createApi(): Promise<TelepresenceApi> {
  if (import.meta.env.MODE === "extension") {
    const { createExtensionApi } = await import("./api/extensionClient");
    return createExtensionApi();
  }
  return new HttpTelepresenceApi();
}

function render(api: TelepresenceApi) {
  const root = document.getElementById("root");
  if (!root) {
    return;
  }
  createRoot(root).render(
    <StrictMode>
      <DockerMuiV6ThemeProvider>
        <CssBaseline />
        <ErrorBoundary>
          <ApiContext.Provider value={api}>
            <App />
          </ApiContext.Provider>
        </ErrorBoundary>
      </DockerMuiV6ThemeProvider>
    </StrictMode>,
  );
}

void createApi().then(render);
