// The Socket.IO 4.8 reference server for the benchmark: the same work Studyhall does in each scenario
// (JWT auth at the handshake, per-user and announcement topics as rooms, an HTTP endpoint whose post is
// broadcast, connection state recovery), set up as https://socket.io/docs/v4/performance-tuning/ and
// https://socket.io/docs/v4/memory-usage/ recommend for a Node.js server whose packages come from npm:
//
//   - the `bufferutil` and `utf-8-validate` native add-ons for `ws` are installed (prebuilt binaries
//     ship inside the npm packages). On Node.js >= 18.14 `ws` validates UTF-8 with the built-in
//     `buffer.isUtf8` and so does not load `utf-8-validate`; `bufferutil` (masking) is loaded.
//   - the initial HTTP request of each session is discarded after the handshake;
//   - no per-message deflate (the default, stated explicitly), WebSocket transport only (no polling,
//     so no upgrade round trips and no HTTP long-polling buffers), the client bundle is not served.
//   Not applicable: uWebSockets.js is not published on npm; `eiows` (the alternative `wsEngine` the page
//   names) is a C++ add-on built from source by node-gyp, so the server keeps the default `ws`, which is
//   what almost every Socket.IO deployment runs; a custom (msgpack) parser only helps binary payloads
//   and would change the wire format, and all payloads here are JSON text. The OS-level advice (open-file
//   limit, ephemeral port range) is for the machine: the harness raises the open-file limit for the
//   processes it starts.
//
// Environment: HOST (default 127.0.0.1), PORT (default 0: an ephemeral port), JWT_SECRET (required).
// When listening it prints exactly one line to stdout, `listening <port>`; logs go to stderr only.
"use strict";
const http = require("http");
const jwt = require("jsonwebtoken");
const { Server } = require("socket.io");

const secret = process.env.JWT_SECRET;
if (!secret) {
  console.error("JWT_SECRET is required");
  process.exit(2);
}

const ROLES = new Set(["student", "mentor", "admin"]);
const BODY_LIMIT = 64 * 1024;
const TITLE_MAX = 120;
const BODY_MAX = 2000;

// An HS256 JWT with `sub` (the user id as a string), `role` and `exp` → `{ userId, role }`, else null.
function verify(token) {
  if (typeof token !== "string" || token.length === 0) return null;
  try {
    const claims = jwt.verify(token, secret, { algorithms: ["HS256"] });
    if (typeof claims.sub !== "string" || claims.sub.length === 0) return null;
    if (!ROLES.has(claims.role) || typeof claims.exp !== "number") return null;
    return { userId: claims.sub, role: claims.role };
  } catch {
    return null;
  }
}

// Free text as Studyhall validates it: trimmed, not empty, at most `max` characters (code points), no
// control characters other than line breaks and tabs. The trimmed text, or null.
function text(value, max) {
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  if (trimmed.length === 0) return null;
  let count = 0;
  for (const ch of trimmed) {
    count += 1;
    if (count > max) return null;
    const code = ch.codePointAt(0);
    if ((code < 0x20 || (code >= 0x7f && code <= 0x9f)) && ch !== "\n" && ch !== "\r" && ch !== "\t") {
      return null;
    }
  }
  return trimmed;
}

function reply(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

let nextId = 1;

// Socket.IO takes over the request listener: requests under /socket.io/ go to Engine.IO, the rest here.
const httpServer = http.createServer((req, res) => {
  if (req.url === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
    res.writeHead(200, { "content-type": "text/plain", "content-length": 2 });
    return res.end("ok");
  }
  if (req.method !== "POST" || req.url !== "/api/v1/announcements") {
    return reply(res, 404, { code: "not_found" });
  }
  const auth = req.headers.authorization || "";
  const caller = auth.startsWith("Bearer ") ? verify(auth.slice(7).trim()) : null;
  if (!caller) return reply(res, 401, { code: "unauthenticated" });
  if (caller.role !== "admin") return reply(res, 403, { code: "forbidden" });
  if (Number(req.headers["content-length"]) > BODY_LIMIT) {
    res.setHeader("connection", "close");
    return reply(res, 413, { code: "too_large" });
  }
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    // Past the limit the rest is read and dropped, so the connection stays usable.
    if (size <= BODY_LIMIT) chunks.push(chunk);
  });
  req.on("end", () => {
    if (size > BODY_LIMIT) return reply(res, 413, { code: "too_large" });
    let input;
    try {
      input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return reply(res, 400, { code: "malformed" });
    }
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      return reply(res, 400, { code: "malformed" });
    }
    const title = text(input.title, TITLE_MAX);
    const body = text(input.body, BODY_MAX);
    if (title === null || body === null) return reply(res, 400, { code: "validation" });
    const id = nextId++;
    const announcement = { id, title, body, author_name: null, created_at: Date.now(), offset: id };
    io.to("announcements").emit("announcement.created", announcement);
    reply(res, 201, announcement);
  });
});
// Keep-alive friendly: idle HTTP connections are kept a minute (Node's default is 5 s).
httpServer.keepAliveTimeout = 60 * 1000;
httpServer.headersTimeout = 65 * 1000;

const io = new Server(httpServer, {
  transports: ["websocket"],
  perMessageDeflate: false,
  serveClient: false,
  connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
});

// Performance tuning (memory usage): the handshake request is not needed once the session exists.
io.engine.on("connection", (rawSocket) => {
  rawSocket.request = null;
});

// JWT auth at the handshake. A recovered session skips this (skipMiddlewares) and keeps its data.
io.use((socket, next) => {
  const caller = verify(socket.handshake.auth && socket.handshake.auth.token);
  if (!caller) return next(new Error("unauthenticated"));
  socket.data.userId = caller.userId;
  socket.data.role = caller.role;
  next();
});

function mayRead(data, topic) {
  if (topic === "announcements") return true;
  if (typeof topic === "string" && topic.startsWith("user:")) {
    return data.role === "admin" || topic === `user:${data.userId}`;
  }
  return false;
}

io.on("connection", (socket) => {
  // socket.recovered: the rooms and socket.data are restored and missed broadcasts replayed; a fresh
  // socket subscribes itself. Either way there is nothing to do here.
  socket.on("subscribe", (topic, ack) => {
    if (typeof ack !== "function") return;
    if (!mayRead(socket.data, topic)) return ack({ error: "forbidden" });
    socket.join(topic);
    ack({ ok: true });
  });
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 2000).unref();
  io.close(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

httpServer.on("error", (err) => {
  console.error(`cannot listen: ${err.message}`);
  process.exit(1);
});
httpServer.listen(Number(process.env.PORT || 0), process.env.HOST || "127.0.0.1", () => {
  process.stdout.write(`listening ${httpServer.address().port}\n`);
});
