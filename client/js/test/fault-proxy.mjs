// A fault-injecting TCP proxy between a client and stagekv-server.
//
// It forwards requests at once and replies only when complete, pairing each
// reply with its request (RESP keeps them in order). When a reply answers a
// command that is armed (`dropReplyTo("COINS.SPEND")`), the server has
// executed the command and replied, and the proxy destroys the client's
// socket (and its upstream) instead of forwarding that reply: the client
// sees a lost reply, exactly what a network failure after the commit looks
// like.

import net from "node:net";

// The end (exclusive) of the RESP value at pos, or -1 when incomplete.
function respEnd(buf, pos) {
  if (pos >= buf.length) return -1;
  const nl = buf.indexOf("\r\n", pos);
  if (nl < 0) return -1;
  const n = parseInt(buf.toString("latin1", pos + 1, nl), 10);
  switch (buf[pos]) {
    case 0x2b: // +
    case 0x2d: // -
    case 0x3a: // :
      return nl + 2;
    case 0x24: { // $
      if (n < 0) return nl + 2;
      const end = nl + 2 + n + 2;
      return end <= buf.length ? end : -1;
    }
    case 0x2a: { // *
      let p = nl + 2;
      for (let i = 0; i < n; i++) {
        p = respEnd(buf, p);
        if (p < 0) return -1;
      }
      return p;
    }
    default:
      throw new Error(`fault-proxy: not RESP at byte ${pos}: ${JSON.stringify(buf.toString("latin1", pos, pos + 20))}`);
  }
}

// The upper-case command name of a multibulk request at pos.
function requestName(buf, pos) {
  const nl = buf.indexOf("\r\n", pos); // *N
  const nl2 = buf.indexOf("\r\n", nl + 2); // $len
  const len = parseInt(buf.toString("latin1", nl + 3, nl2), 10);
  return buf.toString("latin1", nl2 + 2, nl2 + 2 + len).toUpperCase();
}

/**
 * Starts a proxy on a free loopback port in front of upstreamPort.
 * Resolves {port, dropReplyTo(name, times), requests, dropped, close()}.
 */
export function startFaultProxy(upstreamPort, host = "127.0.0.1") {
  const armed = new Map(); // NAME -> replies still to drop
  const sockets = new Set();
  const proxy = {
    port: 0,
    /** Every request name seen, in order, over all connections. */
    requests: [],
    /** Names whose replies were dropped. */
    dropped: [],
    /** Drop the next `times` replies to command `name`. */
    dropReplyTo(name, times = 1) {
      armed.set(name.toUpperCase(), times);
    },
    /** How many requests named `name` reached the server. */
    count(name) {
      return this.requests.filter((n) => n === name.toUpperCase()).length;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };

  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port: upstreamPort });
    sockets.add(client);
    sockets.add(upstream);
    const pending = []; // request names awaiting their replies
    let reqBuf = Buffer.alloc(0);
    let repBuf = Buffer.alloc(0);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", () => { sockets.delete(client); upstream.destroy(); });
    upstream.on("close", () => { sockets.delete(upstream); client.destroy(); });
    client.on("error", kill);
    upstream.on("error", kill);

    client.on("data", (chunk) => {
      upstream.write(chunk);
      reqBuf = Buffer.concat([reqBuf, chunk]);
      let pos = 0;
      for (;;) {
        const end = respEnd(reqBuf, pos);
        if (end < 0) break;
        const name = requestName(reqBuf, pos);
        pending.push(name);
        proxy.requests.push(name);
        pos = end;
      }
      reqBuf = reqBuf.subarray(pos);
    });

    upstream.on("data", (chunk) => {
      repBuf = Buffer.concat([repBuf, chunk]);
      let pos = 0;
      for (;;) {
        const end = respEnd(repBuf, pos);
        if (end < 0) break;
        const name = pending.shift();
        const left = armed.get(name) ?? 0;
        if (left > 0) {
          armed.set(name, left - 1);
          proxy.dropped.push(name);
          kill(); // the server replied; the client never hears it
          return;
        }
        client.write(repBuf.subarray(pos, end));
        pos = end;
      }
      repBuf = repBuf.subarray(pos);
    });
  });

  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, host, () => {
      proxy.port = server.address().port;
      resolve(proxy);
    });
  });
}
