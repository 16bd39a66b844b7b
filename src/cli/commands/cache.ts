import type { Command } from "commander";
export function registerCacheCommand(_program: Command): void {}
