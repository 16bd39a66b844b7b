// The demo (README's first command): starts the local hub on a free port with small generated models,
// then runs the real `modelscope` and `deepcompressor` commands, as a user would type them, through the
// whole story: sign-in, model and dataset downloads, configs, publishing. Everything lives in a temp folder: the real ~/.modelscope and ~/.cache are untouched.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startHubServer } from "../server/hub-server.js";
import { addUser } from "../server/users.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..");
const bins = {
  modelscope: path.join(repoRoot, "dist", "cli", "modelscope.js"),
  deepcompressor: path.join(repoRoot, "dist", "cli", "deepcompressor.js"),
};

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);
const cyan = (s: string) => (color ? `\x1b[36m${s}\x1b[0m` : s);

/** Deterministic filler bytes, so the demo model has real weight-sized files. */
function filler(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(seed).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

function writeRepo(root: string, id: string, files: Record<string, string | Buffer>, typeFolder: "models" | "datasets" = "models"): void {
  const dir = path.join(root, typeFolder, id.replace("/", "--"), "snapshots", "master");
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
  }
}

function llmFiles(name: string, weightsMiB: number): Record<string, string | Buffer> {
  return {
    "config.json": JSON.stringify({ architectures: ["QWenLMHeadModel"], model_type: "qwen", hidden_size: 64, num_hidden_layers: 2, _name: name }, null, 2),
    "generation_config.json": JSON.stringify({ max_new_tokens: 64 }),
    "tokenizer_config.json": JSON.stringify({ model_max_length: 2048 }),
    "README.md": `# ${name}\n\nA tiny generated stand-in for the demo.\n`,
    "model.safetensors": filler(weightsMiB * 1024 * 1024, name),
  };
}

interface Step {
  title: string;
  /** What the user would type (shown); the token is never in it. */
  shown: string;
  bin: keyof typeof bins;
  args: string[];
  input?: string;
  cwd?: string;
  /** The exit code this step must end with (default 0): the demo fails loudly if the story breaks. */
  expect?: number;
  /** Shows what the step produced (e.g. a written file). */
  after?: () => void;
}

async function run(step: Step, env: NodeJS.ProcessEnv): Promise<number> {
  process.stdout.write(`\n${bold(step.title)}\n${cyan(`$ ${step.shown}`)}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bins[step.bin], ...step.args], { env, cwd: step.cwd ?? repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    const indent = (s: string) => s.replace(/^(?=.)/gm, "  ");
    child.stdout.on("data", (d: Buffer) => process.stdout.write(indent(d.toString())));
    child.stderr.on("data", (d: Buffer) => process.stdout.write(dim(indent(d.toString()))));
    child.on("error", reject);
    child.on("close", (code) => {
      process.stdout.write(dim(`  (exit ${code})\n`));
      resolve(code ?? 1);
    });
    child.stdin.end(step.input ?? "");
  });
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "deepcompressor-demo-"));
  const root = path.join(work, "hub");
  const home = path.join(work, "home");
  fs.mkdirSync(home, { recursive: true });

  // The guide's models: a public LLM, a private one, and a diffusion pipeline, as tiny stand-ins.
  writeRepo(root, "qwen/Qwen-7B-Chat", llmFiles("Qwen-7B-Chat", 12));
  writeRepo(root, "your-org/private-model-name", llmFiles("private-model-name", 2));
  writeRepo(root, "black-forest-labs/FLUX.1-schnell", {
    "model_index.json": JSON.stringify({ _class_name: "FluxPipeline" }),
    "transformer/config.json": JSON.stringify({ num_layers: 1 }),
    "transformer/diffusion_pytorch_model.safetensors": filler(1024 * 1024, "flux"),
  });
  // Calibration data for compression, as a dataset (a Pile validation sample stand-in).
  const calib = Array.from({ length: 64 }, (_, i) => JSON.stringify({ text: `calibration sample ${i}` })).join("\n");
  writeRepo(root, "your-org/pile-val-sample", { "val.jsonl": calib + "\n", "README.md": "# pile-val-sample\n" }, "datasets");
  const { token } = await addUser(root, "alice", "alice@example.com");
  const hubJson = JSON.parse(fs.readFileSync(path.join(root, "hub.json"), "utf8"));
  hubJson.private = { "your-org/private-model-name": ["alice"] };
  fs.writeFileSync(path.join(root, "hub.json"), JSON.stringify(hubJson, null, 2));

  const hub = await startHubServer({ root, host: "127.0.0.1", port: 0 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    LANG: process.env.LANG ?? "C.UTF-8",
    MODELSCOPE_ENDPOINT: hub.url,
    MODELSCOPE_CACHE: path.join(home, ".cache", "modelscope"),
  };

  process.stdout.write(`${bold("deepcompressor demo")}: ModelScope sign-in, downloads and DeepCompressor configs against a local hub\n`);
  process.stdout.write(`local hub : ${hub.url} (serving ${root})\n`);
  process.stdout.write(`models    : qwen/Qwen-7B-Chat (public), your-org/private-model-name (private, user alice), black-forest-labs/FLUX.1-schnell (public)\n`);
  process.stdout.write(`dataset   : your-org/pile-val-sample (public calibration data)\n`);
  process.stdout.write(`HOME      : ${home} (your real ~/.modelscope is not touched)\n`);
  process.stdout.write(`as a user : export MODELSCOPE_ENDPOINT=${hub.url} (while the demo runs; it stops at the end)\n`);

  const examples = path.join(repoRoot, "examples");
  const steps: Step[] = [
    { title: "1. Signed out: the sign-in check, as a command", shown: "modelscope auth status", bin: "modelscope", args: ["auth", "status"], expect: 1 },
    { title: "2. Public models need no sign-in", shown: "modelscope download qwen/Qwen-7B-Chat", bin: "modelscope", args: ["download", "qwen/Qwen-7B-Chat"] },
    { title: "3. A private model is invisible while signed out (the hub answers 404)", shown: "modelscope info your-org/private-model-name", bin: "modelscope", args: ["info", "your-org/private-model-name"], expect: 1 },
    { title: "4. A wrong token is rejected, and nothing is saved", shown: "modelscope login --token ms-this-is-not-a-valid-token", bin: "modelscope", args: ["login", "--token", "ms-this-is-not-a-valid-token"], expect: 1 },
    { title: "5. Sign in (the token is piped in, so it is neither echoed nor kept in shell history)", shown: 'printf %s "$TOKEN" | modelscope login --token-stdin', bin: "modelscope", args: ["login", "--token-stdin"], input: token },
    { title: "6. Who am I, and is the token accepted?", shown: "modelscope whoami", bin: "modelscope", args: ["whoami"] },
    { title: "", shown: "modelscope auth status", bin: "modelscope", args: ["auth", "status"] },
    { title: "7. The private model is visible once signed in", shown: "modelscope info your-org/private-model-name", bin: "modelscope", args: ["info", "your-org/private-model-name"] },
    { title: "8. ...and downloads", shown: "modelscope download your-org/private-model-name", bin: "modelscope", args: ["download", "your-org/private-model-name"] },
    { title: "9. A second download is a cache hit (one listing request, no re-hash)", shown: "modelscope download qwen/Qwen-7B-Chat", bin: "modelscope", args: ["download", "qwen/Qwen-7B-Chat"] },
    { title: "10. Calibration data is a dataset; the official CLI's spelling works as is", shown: "modelscope download --dataset your-org/pile-val-sample", bin: "modelscope", args: ["download", "--dataset", "your-org/pile-val-sample"] },
    { title: "11. The cache, shared with the official Python client's layout", shown: "modelscope cache ls", bin: "modelscope", args: ["cache", "ls"] },
  ];
  if (fs.existsSync(bins.deepcompressor) && fs.existsSync(examples)) {
    // Run from a project folder holding the examples, as the Python DeepCompressor wants configs: in a
    // subfolder of the working folder.
    const project = path.join(work, "project");
    fs.cpSync(examples, path.join(project, "examples"), { recursive: true });
    const configs = ["llm/qwen-7b-chat.yaml", "llm/private-model.yaml", "diffusion/flux-schnell.yaml"].filter((f) => fs.existsSync(path.join(examples, f)));
    // One fetch per config: several configs in one command are merged (later wins), as in DeepCompressor.
    configs.forEach((c, i) =>
      steps.push({
        title: i === 0 ? "12. DeepCompressor configs (YAML) resolve to local folders" : "",
        shown: `deepcompressor fetch examples/${c}`,
        bin: "deepcompressor",
        args: ["fetch", `examples/${c}`],
        cwd: project,
      }),
    );
    if (configs.includes("llm/qwen-7b-chat.yaml")) {
      steps.push({
        title: "13. ...or write the merged config with local folders, for the Python DeepCompressor to run offline",
        shown: "deepcompressor fetch examples/llm/qwen-7b-chat.yaml --output resolved/qwen-7b-chat.yaml && cat resolved/qwen-7b-chat.yaml",
        bin: "deepcompressor",
        args: ["fetch", "examples/llm/qwen-7b-chat.yaml", "--output", "resolved/qwen-7b-chat.yaml"],
        cwd: project,
        after: () => process.stdout.write(fs.readFileSync(path.join(project, "resolved", "qwen-7b-chat.yaml"), "utf8").replace(/^/gm, "  ")),
      });
    }
    steps.push({ title: "14. The same sign-in check, DeepCompressor side", shown: "deepcompressor check-auth", bin: "deepcompressor", args: ["check-auth"] });
  }
  // What a compression run ends with: a model folder to share, published to a new private repo in one commit.
  const compressed = path.join(work, "qwen-7b-chat-w4a16");
  fs.mkdirSync(compressed);
  fs.writeFileSync(path.join(compressed, "config.json"), JSON.stringify({ model_type: "qwen", quantization: { bits: 4, group_size: 128 } }, null, 2));
  fs.writeFileSync(path.join(compressed, "model.safetensors"), filler(3 * 1024 * 1024, "w4a16"));
  steps.push(
    {
      title: "15. Publish the compressed model: a new private repo, only what the hub lacks is sent, one commit",
      shown: "modelscope upload alice/qwen-7b-chat-w4a16 ./qwen-7b-chat-w4a16 --create-repo",
      bin: "modelscope",
      args: ["upload", "alice/qwen-7b-chat-w4a16", compressed, "--create-repo"],
    },
    { title: "", shown: "modelscope upload alice/qwen-7b-chat-w4a16 ./qwen-7b-chat-w4a16   # again: nothing to send", bin: "modelscope", args: ["upload", "alice/qwen-7b-chat-w4a16", compressed] },
    { title: "16. Sign out", shown: "modelscope logout", bin: "modelscope", args: ["logout"] },
    { title: "", shown: "modelscope auth status", bin: "modelscope", args: ["auth", "status"], expect: 1 },
  );

  const broken: string[] = [];
  try {
    for (const step of steps) {
      const code = await run(step, env);
      step.after?.();
      if (code !== (step.expect ?? 0)) broken.push(`${step.shown} (exit ${code}, expected ${step.expect ?? 0})`);
    }
  } finally {
    await hub.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (broken.length) {
    process.stderr.write(`\ndemo: ${broken.length} step(s) did not end as expected:\n${broken.map((b) => `  ${b}`).join("\n")}\n`);
    process.exitCode = 1;
    return;
  }
  // The demo's hub and folder are gone now: point at what runs from here, as typed in this folder.
  const ms = `node ${path.relative(process.cwd(), bins.modelscope) || bins.modelscope}`;
  process.stdout.write(`\n${bold("Done.")} The demo's hub and files are removed. From here:\n`);
  process.stdout.write(`  ${ms} env          your own endpoint, cache, settings and sign-in state\n`);
  process.stdout.write(`  ${ms} --help       every command (\`npm i -g deepcompressor\` puts \`modelscope\` on PATH)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
