#!/usr/bin/env node
// `deepcompressor`: DeepCompressor configs to local model folders (fetch, ptq, config validate, check-auth).
// Override flags (`--model-path X`, ...) are taken out of argv before commander parses it, the way the
// Python tool's omniconfig accepts them anywhere; arguments after `--` are for the Python tool.
import { Command } from "commander";
import { extractOverrides } from "../config/overrides.js";
import { VERSION } from "../version.js";
import { cliState, registerConfigCommands } from "./commands/dc-config.js";
import { registerPtqCommand } from "./commands/dc-ptq.js";
import { overrideExits, printError, runProgram } from "./run.js";

const program = new Command("deepcompressor")
  .description("DeepCompressor configs with ModelScope: resolve model sources to local folders, then run the Python DeepCompressor")
  .version(`deepcompressor ${VERSION}`, "-V, --version");

registerConfigCommands(program);
registerPtqCommand(program);
overrideExits(program);

const raw = process.argv.slice(2);
const dashdash = raw.indexOf("--");
const before = dashdash >= 0 ? raw.slice(0, dashdash) : raw;
cliState.passthrough = dashdash >= 0 ? raw.slice(dashdash + 1) : [];
try {
  const { overrides, rest } = extractOverrides(before);
  cliState.overrides = overrides;
  await runProgram(program, [...process.argv.slice(0, 2), ...rest]);
} catch (err) {
  process.exitCode = printError(err);
}
