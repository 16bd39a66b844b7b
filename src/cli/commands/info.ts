// `modelscope info MODEL_ID`: what the hub says about a model (a private one only once signed in).
import type { Command } from "commander";
import { HubApi } from "../../hub/api.js";
import { forTerminal } from "../../util/terminal-text.js";
import { action, interruptSignal, writeJson } from "../run.js";

export function registerInfoCommand(program: Command): void {
  program
    .command("info <model_id>")
    .description("show a model's info and revisions (private models need a sign-in)")
    .option("--json", "machine-readable output")
    .option("--token <token>", "use this token instead of the saved one")
    .option("--endpoint <url>", "hub URL")
    .action(
      action(
        async (modelId: string, flags: { json?: boolean; token?: string; endpoint?: string }) => {
          const api = new HubApi({ endpoint: flags.endpoint, token: flags.token });
          const signal = interruptSignal();
          const info = await api.modelInfo(modelId, { signal });
          const revisions = await api.listRevisions(modelId, { signal });
          if (flags.json) {
            writeJson({ id: info.id, owner: info.owner, name: info.name, private: info.private, license: info.license ?? null, revisions });
            return;
          }
          const rows: [string, string][] = [
            ["id", info.id],
            ["visibility", info.private ? "private" : "public"],
            ["license", info.license ?? "-"],
            ["branches", revisions.branches.map((b) => b.name).join(", ") || "-"],
            ["tags", revisions.tags.map((b) => b.name).join(", ") || "-"],
          ];
          for (const [k, v] of rows) process.stdout.write(`${k.padEnd(10)}: ${forTerminal(v)}\n`);
        },
      ),
    );
}
