#!/usr/bin/env node
// `modelscope`: sign-in, downloads, cache and the local hub. Each command lives in cli/commands/ and
// loads its heavy parts only when it runs, so the CLI starts fast.
import { Command } from "commander";
import { VERSION } from "../version.js";
import { registerAuthCommands } from "./commands/auth.js";
import { registerInfoCommand } from "./commands/info.js";
import { registerServeCommand } from "./commands/serve.js";
import { registerDownloadCommand } from "./commands/download.js";
import { registerCacheCommand } from "./commands/cache.js";
import { registerCompletionCommand } from "./commands/completion.js";
import { registerEnvCommand } from "./commands/env.js";
import { registerCreateCommand } from "./commands/create.js";
import { registerUploadCommand } from "./commands/upload.js";
import { hoistGlobalFlags } from "./global-flags.js";
import { overrideExits, runProgram } from "./run.js";

const program = new Command("modelscope")
  .description("ModelScope from Node.js: sign in, download models, manage the cache, run a local hub")
  .version(`deepcompressor ${VERSION}`, "-V, --version");

for (const register of [registerAuthCommands, registerInfoCommand, registerServeCommand, registerDownloadCommand, registerCacheCommand, registerCreateCommand, registerUploadCommand, registerEnvCommand, registerCompletionCommand]) register(program);

overrideExits(program);
await runProgram(program, hoistGlobalFlags(program, process.argv));
