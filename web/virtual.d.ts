// The URL of the demo's entry module for a pool's workers (web/vite.config.ts answers it).
declare module "virtual:fiberhost-threads-entry" {
  const url: string;
  export default url;
}
