import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The page is served at "/" by `telepresence ui`, whose CSP allows only 'self': no inline
// script, no external fonts or CDNs. `--mode extension` builds the same page for the Docker
// Desktop extension (src/api/extension.ts instead of HTTP), loaded from the extension's ui/
// folder: its paths are relative.
export default defineConfig(({ mode }) => ({
  plugins: [react()],
  base: mode === "extension" ? "./" : "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
}));
