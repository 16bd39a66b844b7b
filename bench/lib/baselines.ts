// Other clients timed beside ours (issue 14): aria2c (a parallel-range downloader: the bar on capped
// links) and the official Python client (`../shared/reference/modelscope_hub`, run with Debian's python3,
// which has its dependencies). Each fetches the same model from the same local hub into its own folder.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./proc.js";
import type { GeneratedModel } from "./data.js";

export interface Baseline {
  /** The row's name. */
  step: string;
  /** The command that fetches `model` into `outDir`, and the folder the files end up in. */
  command(hubUrl: string, model: GeneratedModel, outDir: string, scratch: string): { cmd: string; args: string[]; env?: Record<string, string>; folder: string };
}

/** `quote_plus`, as the official client quotes FilePath. */
const quotePlus = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
const fileUrl = (hubUrl: string, modelId: string, filePath: string) => `${hubUrl}/api/v1/models/${modelId}/repo?Revision=master&FilePath=${quotePlus(filePath)}`;

export function haveCommand(cmd: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * aria2c with `connections` connections per file (`-x N -s N`), following the hub's 302 like we do.
 * Disk space reserved with fallocate (`--file-allocation=falloc`), as we do; its default (`prealloc`)
 * would write the whole file twice here.
 */
export function aria2(connections: number): Baseline {
  return {
    step: `aria2c -x${connections} -s${connections}`,
    command(hubUrl, model, outDir, scratch) {
      const input = path.join(scratch, `aria2-${path.basename(outDir)}.txt`);
      const lines: string[] = [];
      for (const f of model.files) {
        lines.push(fileUrl(hubUrl, model.modelId, f.path), `  dir=${path.join(outDir, path.dirname(f.path))}`, `  out=${path.basename(f.path)}`);
      }
      fs.writeFileSync(input, `${lines.join("\n")}\n`);
      const args = ["-q", `-x${connections}`, `-s${connections}`, "--file-allocation=falloc", "--allow-overwrite=true", "--auto-file-renaming=false", "--console-log-level=error", "-i", input];
      return { cmd: "aria2c", args, folder: outDir };
    },
  };
}

export const PYTHON = "/usr/bin/python3";
export const OFFICIAL_SRC = path.join(REPO_ROOT, "..", "shared", "reference", "modelscope_hub", "src");

export function haveOfficialClient(): boolean {
  return fs.existsSync(PYTHON) && fs.existsSync(path.join(OFFICIAL_SRC, "modelscope_hub"));
}

/** The official Python client's `download` into a fresh cache folder (its defaults otherwise). */
export function officialClient(): Baseline {
  return {
    step: "official Python",
    command(hubUrl, model, outDir) {
      const args = ["-m", "modelscope_hub.cli.main", "--endpoint", hubUrl, "download", model.modelId, "--cache-dir", outDir];
      const env = { PYTHONPATH: OFFICIAL_SRC, MODELSCOPE_DOWNLOAD_INTRA_CLOUD: "false", MODELSCOPE_CACHE: outDir };
      return { cmd: PYTHON, args, env, folder: path.join(outDir, "models", model.modelId.replace("/", "--"), "snapshots", "master") };
    },
  };
}

/** A process that keeps one core busy (the "busy machine" scenario); stop it with `kill()`. */
export function cpuHog(): { kill(): void } {
  const child = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  // Also when the benchmark is interrupted (it exits from its SIGINT handler).
  process.once("exit", kill);
  return { kill };
}
