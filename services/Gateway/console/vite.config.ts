import { defineConfig } from "vite";

// Served by the Gateway under /console/ (docs/console.md).
export default defineConfig({
  base: "/console/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
});
