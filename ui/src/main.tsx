import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import CssBaseline from "@mui/material/CssBaseline";
import { DockerMuiV6ThemeProvider } from "@docker/docker-mui-theme";
import { HttpTelepresenceApi } from "./api/http";
import { ApiContext } from "./components/ApiContext";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { installFallbackThemes } from "./theme/fallbackThemes";
import { App } from "./App";

installFallbackThemes();

const api = new HttpTelepresenceApi();
const root = document.getElementById("root");
if (root) {
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
