// Test-only fault switches for the local hub. They exist only when the server is started with
// `testFaults: true` (CLI: the hidden `serve --test-faults` flag); in normal use there is no way to turn
// them on. Tests set them with POST /__test__/faults and clear them with DELETE /__test__/faults.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";

export interface FileServeContext {
  modelId: string;
  revision: string;
  filePath: string;
  /** First and last byte being sent (inclusive). */
  start: number;
  end: number;
  size: number;
}

export interface FaultHooks {
  /** Called first for every request; returns true when it answered the request itself. */
  onRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean | Promise<boolean>;
  /** Lets a fault change the bytes of a file body (corrupt, stall, throttle, cut). */
  wrapFileStream(ctx: FileServeContext, body: Readable, res: ServerResponse): Readable;
}

/** The hooks of a server started without test faults: nothing happens. */
export const NO_FAULTS: FaultHooks = {
  onRequest: () => false,
  wrapFileStream: (_ctx, body) => body,
};

/** Creates the switchable hooks (filled in by the download work: see issue 3). */
export function createTestFaults(): FaultHooks {
  return NO_FAULTS;
}
