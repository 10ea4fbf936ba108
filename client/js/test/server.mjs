// A real stagekv-server for one test file: a free loopback port, a temp dir,
// bounded start and stop. The binary is $STAGEKV_SERVER_BIN, or
// ../../build/stagekv-server relative to client/js.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

export const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 20000;

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SERVER_BIN = path.resolve(PKG, process.env.STAGEKV_SERVER_BIN ?? "../../build/stagekv-server");

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// One raw PING on TCP or a unix socket: true on +PONG or -NOAUTH (the
// server is up), false otherwise; bounded.
function pingOnce(where) {
  return new Promise((resolve) => {
    const sock = net.connect(where);
    let buf = "";
    const done = (ok) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    sock.on("connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => {
      buf += d.toString();
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG") || buf.startsWith("-NOAUTH"));
    });
    sock.on("error", () => done(false));
  });
}

function logTail(file, n = 30) {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts a server; resolves {port, dir, log, stop(), kill(), restart()}.
 * opts.args: extra command-line options (e.g. ["--requirepass", "pw"]).
 */
export async function startServer(opts = {}) {
  fs.accessSync(SERVER_BIN, fs.constants.X_OK);
  assert.ok(fs.statSync(SERVER_BIN).isFile(), `not a file: ${SERVER_BIN} (set STAGEKV_SERVER_BIN)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stagekv-jsclient-"));
  const log = path.join(dir, "server.log");
  const data = path.join(dir, "data");
  const extra = opts.args ?? [];
  const srv = { dir, log, port: 0, proc: null, exit: null };

  async function launch(port) {
    const fd = fs.openSync(log, "a");
    const proc = spawn(SERVER_BIN, ["--port", String(port), "--bind", HOST, "--dir", data, ...extra], {
      stdio: ["ignore", fd, fd],
    });
    fs.closeSync(fd);
    let exited = null;
    const exit = new Promise((resolve) => {
      proc.on("exit", (code, signal) => resolve((exited = { code, signal })));
      proc.on("error", (err) => resolve((exited = { code: null, signal: null, err })));
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline && !exited) {
      if (await pingOnce({ host: HOST, port })) {
        Object.assign(srv, { port, proc, exit });
        return null;
      }
      await sleep(25);
    }
    if (!exited) {
      proc.kill("SIGKILL");
      await exit;
    }
    return exited ? `exited (code ${exited.code}, signal ${exited.signal})` : "no PONG in time";
  }

  // Stops with SIGTERM; the exit status must be 0 (SPEC §1).
  srv.stop = async ({ keepDir = false } = {}) => {
    if (!srv.proc) return;
    const { proc, exit } = srv;
    srv.proc = null;
    proc.kill("SIGTERM");
    let timer;
    const result = await Promise.race([
      exit,
      new Promise((resolve) => { timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS); }),
    ]);
    clearTimeout(timer);
    if (result === null) {
      proc.kill("SIGKILL");
      await exit;
      assert.fail(`server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${logTail(log)}`);
    }
    assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null },
      `server exit status after SIGTERM\n${logTail(log)}`);
    if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
  };

  // Starts it again on the same port and data.
  srv.restart = async () => {
    const err = await launch(srv.port);
    if (err) throw new Error(`restart on port ${srv.port}: ${err}\n${logTail(log)}`);
  };

  let lastError = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    lastError = await launch(opts.port ?? (await freePort()));
    if (!lastError) return srv;
  }
  const tail = logTail(log);
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`could not start ${SERVER_BIN}: ${lastError}\n${tail}`);
}

/** Resolves like promise, or rejects after ms. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
