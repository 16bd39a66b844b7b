// The hub's root must be a folder its user can read: said in one line when the hub starts or an admin
// command runs (a typo in --root is not answered by a new, empty hub).
import fs from "node:fs";
import { UsageError } from "../errors.js";

/** The root must be a folder the hub can read: said at start-up in one line, not on the first request. */
export function checkRoot(root: string): void {
  const st = fs.statSync(root, { throwIfNoEntry: false });
  if (!st?.isDirectory()) {
    throw new UsageError(`No such folder: ${root}`, "pass a ModelScope cache folder (models/<owner>--<name>/snapshots/<revision>/...), e.g. ~/.cache/modelscope", { key: "noSuchFolder", vars: { path: root } });
  }
  try {
    fs.accessSync(root, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    throw new UsageError(`Cannot read the folder ${root}`, "serve a folder the user running the hub can read, or fix its permissions", { key: "rootUnreadable", vars: { path: root } });
  }
}
