import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The page is served at "/" by `telepresence ui`, whose CSP allows only 'self': no inline
// script, no external fonts or CDNs.
export default defineConfig({
  plugins: [react()],
  base: "/",
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
});
