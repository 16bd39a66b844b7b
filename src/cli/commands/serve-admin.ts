// `serve user list|rm`, `serve access`, `serve org`: the hub's administration from the command line.
// Each writes hub.json atomically; running hubs on the same root pick the change up on their next request.
import path from "node:path";
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { forTerminal } from "../../util/terminal-text.js";
import { action } from "../run.js";

const VISIBILITIES = ["private", "gated", "public"] as const;

function names(list: string | undefined): string[] | undefined {
  return list === undefined ? undefined : list.split(",").map((s) => s.trim()).filter(Boolean);
}

export function registerAdminCommands(serve: Command, user: Command): void {
  user
    .command("list")
    .description("list the hub's users (names and emails; never tokens)")
    .requiredOption("--root <dir>", "the hub's folder")
    .action(
      action(async (flags: { root: string }) => {
        const { listUsers } = await import("../../server/admin.js");
        // hub.json may have been edited by hand: an email's control characters are shown, not obeyed.
        for (const u of listUsers(path.resolve(flags.root))) process.stdout.write(`${u.username}\t${forTerminal(u.email ?? "")}\n`);
      }),
    );
  user
    .command("rm <name>")
    .description("remove a user (their token stops working at once) and their name from every access list")
    .requiredOption("--root <dir>", "the hub's folder")
    .action(
      action(async (name: string, flags: { root: string }) => {
        const { removeUser } = await import("../../server/admin.js");
        await removeUser(path.resolve(flags.root), name);
        process.stderr.write(`Removed user '${name}'.\n`);
      }),
    );

  serve
    .command("access <id> <visibility>")
    .description("make a model (or --dataset) private, gated or public; --users sets who may see / download it")
    .requiredOption("--root <dir>", "the hub's folder")
    .option("--users <names>", "comma-separated user names (default: keep the current list)")
    .option("--dataset", "the id is a dataset's")
    .action(
      action(async (id: string, visibility: string, flags: { root: string; users?: string; dataset?: boolean }) => {
        if (!(VISIBILITIES as readonly string[]).includes(visibility)) {
          throw new UsageError(`Unknown visibility '${visibility}'`, "use private, gated or public", { key: "badAccessLevel", vars: { value: visibility } });
        }
        const { repoInRoot, setAccess } = await import("../../server/admin.js");
        const root = path.resolve(flags.root);
        const type = flags.dataset ? "dataset" : "model";
        const list = await setAccess(root, type, id, visibility as (typeof VISIBILITIES)[number], names(flags.users));
        process.stderr.write(visibility === "public" ? `${id} is public.\n` : `${id} is ${visibility}; allowed: ${list.join(", ") || "(nobody)"}.\n`);
        // A typo here would leave the repo meant as it was: say when the id names nothing in the root.
        if (!repoInRoot(root, type, id)) {
          const other = !flags.dataset && repoInRoot(root, "dataset", id) ? " (there is a dataset of that id: add --dataset)" : "";
          process.stderr.write(`Note: ${root} has no ${type} ${id} yet; the rule applies once it is there${other}.\n`);
        }
      }),
    );

  const org = serve.command("org").description("organisations: their members may upload under the organisation's namespace");
  org
    .command("list")
    .description("list organisations and their members")
    .requiredOption("--root <dir>", "the hub's folder")
    .action(
      action(async (flags: { root: string }) => {
        const { listOrgs } = await import("../../server/admin.js");
        for (const [name, members] of Object.entries(listOrgs(path.resolve(flags.root)))) process.stdout.write(`${name}\t${members.join(",")}\n`);
      }),
    );
  org
    .command("add <name>")
    .description("create an organisation, or replace its members")
    .requiredOption("--root <dir>", "the hub's folder")
    .option("--members <names>", "comma-separated user names", "")
    .action(
      action(async (name: string, flags: { root: string; members: string }) => {
        const { setOrg } = await import("../../server/admin.js");
        await setOrg(path.resolve(flags.root), name, names(flags.members) ?? []);
        process.stderr.write(`Organisation '${name}' saved.\n`);
      }),
    );
  org
    .command("rm <name>")
    .description("remove an organisation")
    .requiredOption("--root <dir>", "the hub's folder")
    .action(
      action(async (name: string, flags: { root: string }) => {
        const { removeOrg } = await import("../../server/admin.js");
        await removeOrg(path.resolve(flags.root), name);
        process.stderr.write(`Removed organisation '${name}'.\n`);
      }),
    );
}
