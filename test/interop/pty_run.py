#!/usr/bin/env python3
"""Runs a command in a real pseudo-terminal and reports what the screen showed.

Usage: pty_run.py ARGV_JSON STEPS_JSON
  ARGV_JSON  the command, e.g. ["node", "dist/cli/modelscope.js", "login"]
  STEPS_JSON [[wait_for, send], ...]: wait until `wait_for` is on the screen, then type `send`.
The environment is passed through. Prints one JSON line: {"code": exit code, "screen": base64 of all output}.
Stdlib only (pty), so it runs on any Debian python3.
"""
import base64
import json
import os
import pty
import select
import sys
import time

TIMEOUT_S = 30


def main() -> None:
    argv = json.loads(sys.argv[1])
    steps = json.loads(sys.argv[2])
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, os.environ)
    screen = b""
    eof = False

    def pump(deadline: float) -> None:
        nonlocal screen, eof
        ready, _, _ = select.select([fd], [], [], max(0.0, min(0.2, deadline - time.monotonic())))
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                eof = True
            screen += chunk

    for wait_for, send in steps:
        deadline = time.monotonic() + TIMEOUT_S
        while wait_for.encode() not in screen and not eof and time.monotonic() < deadline:
            pump(deadline)
        if wait_for.encode() not in screen:
            break
        time.sleep(0.1)  # let the program switch the terminal to no-echo before typing
        os.write(fd, send.encode())
    deadline = time.monotonic() + TIMEOUT_S
    while not eof and time.monotonic() < deadline:
        pump(deadline)
    if not eof:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"code": code, "screen": base64.b64encode(screen).decode()}))


if __name__ == "__main__":
    main()
