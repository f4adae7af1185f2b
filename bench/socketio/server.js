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
// Chat (the seed "Sinaesta" app's shape): with DATABASE_URL, rooms and messages live in PostgreSQL
// (npm `pg`); `POST /api/v1/rooms/:id/messages` checks the sender's membership, inserts the message
// (once per client id) and then broadcasts it with `io.to("room:<id>").emit`; subscribing to a room
// checks membership. CHAT_MEMBERS=n makes room 1 with users 1..n+1 at start-up.
//
// Several processes (the `cluster` scenario): with REDIS_URL, the processes share their broadcasts through
// Redis with Socket.IO's own Redis adapter (npm `@socket.io/redis-adapter` on the `redis` client, as
// https://socket.io/docs/v4/redis-adapter/ sets it up: a publishing and a subscribing connection). That
// adapter does not keep sessions, so connection state recovery cannot restore anything then (the option
// stays on; a reconnecting client gets a new session and resubscribes, and misses what was sent
// meanwhile). Without REDIS_URL the process is alone and recovery works from its memory.
//
// Environment: HOST (default 127.0.0.1), PORT (default 0: an ephemeral port), JWT_SECRET (required),
// DATABASE_URL and CHAT_MEMBERS (optional, for chat), REDIS_URL (optional, for several processes).
// When listening it prints exactly one line to stdout, `listening <port>`; logs go to stderr only.
"use strict";
const http = require("http");
const jwt = require("jsonwebtoken");
const { Server } = require("socket.io");
const { Pool } = require("pg");

const pool = process.env.DATABASE_URL ? new Pool({ connectionString: process.env.DATABASE_URL, max: 16 }) : null;

async function prepareChat() {
  if (!pool) return;
  await pool.query(`CREATE TABLE IF NOT EXISTS chat_members (
      room_id BIGINT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (room_id, user_id));
    CREATE TABLE IF NOT EXISTS chat_messages (
      id BIGSERIAL PRIMARY KEY, room_id BIGINT NOT NULL, author_id TEXT NOT NULL, client_id TEXT NOT NULL,
      body TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (room_id, author_id, client_id))`);
  const members = Number(process.env.CHAT_MEMBERS || 0);
  if (members > 0) {
    await pool.query(
      "INSERT INTO chat_members SELECT 1, g::text FROM generate_series(1, $1::int) g ON CONFLICT DO NOTHING",
      [members + 1],
    );
  }
}

async function isMember(roomId, userId) {
  if (!pool) return false;
  const { rowCount } = await pool.query("SELECT 1 FROM chat_members WHERE room_id = $1 AND user_id = $2", [
    roomId,
    userId,
  ]);
  return rowCount > 0;
}

const secret = process.env.JWT_SECRET;
if (!secret) {
  console.error("JWT_SECRET is required");
  process.exit(2);
}

const ROLES = new Set(["student", "mentor", "admin"]);
const BODY_LIMIT = 64 * 1024;
const TITLE_MAX = 120;
const BODY_MAX = 2000;
const MESSAGE_MAX = 4000;
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

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
  const chat = req.method === "POST" && /^\/api\/v1\/rooms\/(\d+)\/messages$/.exec(req.url);
  if (!chat && (req.method !== "POST" || req.url !== "/api/v1/announcements")) {
    return reply(res, 404, { code: "not_found" });
  }
  const auth = req.headers.authorization || "";
  const caller = auth.startsWith("Bearer ") ? verify(auth.slice(7).trim()) : null;
  if (!caller) return reply(res, 401, { code: "unauthenticated" });
  if (!chat && caller.role !== "admin") return reply(res, 403, { code: "forbidden" });
  readJson(req, res, (input) => {
    if (chat) return postMessage(res, caller, Number(chat[1]), input);
    const title = text(input.title, TITLE_MAX);
    const body = text(input.body, BODY_MAX);
    if (title === null || body === null) return reply(res, 400, { code: "validation" });
    const id = nextId++;
    const announcement = { id, title, body, author_name: null, created_at: Date.now(), offset: id };
    io.to("announcements").emit("announcement.created", announcement);
    reply(res, 201, announcement);
  });
});

// The request's JSON object, or an error answer (413 past the limit, 400 for anything else).
function readJson(req, res, then) {
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
    then(input);
  });
}

// A chat message: the sender must be a member; stored once per client id, then broadcast.
async function postMessage(res, caller, roomId, input) {
  const body = text(input.body, MESSAGE_MAX);
  if (body === null || typeof input.client_id !== "string" || !CLIENT_ID.test(input.client_id)) {
    return reply(res, 400, { code: "validation" });
  }
  try {
    if (!(await isMember(roomId, caller.userId))) return reply(res, 404, { code: "not_found" });
    const createdAt = Date.now();
    const inserted = await pool.query(
      "INSERT INTO chat_messages (room_id, author_id, client_id, body, created_at) VALUES ($1, $2, $3, $4, $5) " +
        "ON CONFLICT (room_id, author_id, client_id) DO NOTHING RETURNING id",
      [roomId, caller.userId, input.client_id, body, createdAt],
    );
    if (inserted.rowCount === 0) return reply(res, 200, { duplicate: true });
    const message = {
      id: Number(inserted.rows[0].id),
      room_id: roomId,
      author_id: caller.userId,
      client_id: input.client_id,
      body,
      created_at: createdAt,
    };
    io.to(`room:${roomId}`).emit("chat.message.posted", message);
    reply(res, 201, message);
  } catch (err) {
    console.error(`chat: ${err.message}`);
    reply(res, 500, { code: "internal" });
  }
}
// Keep-alive friendly: idle HTTP connections are kept a minute (Node's default is 5 s).
httpServer.keepAliveTimeout = 60 * 1000;
httpServer.headersTimeout = 65 * 1000;

const io = new Server(httpServer, {
  transports: ["websocket"],
  perMessageDeflate: false,
  serveClient: false,
  connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
});

// Several processes: broadcasts go through Redis (connected before the server listens).
async function prepareRedis() {
  if (!process.env.REDIS_URL) return;
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const pubClient = createClient({ url: process.env.REDIS_URL });
  const subClient = pubClient.duplicate();
  for (const client of [pubClient, subClient]) {
    client.on("error", (err) => console.error(`redis: ${err.message}`));
  }
  await Promise.all([pubClient.connect(), subClient.connect()]);
  io.adapter(createAdapter(pubClient, subClient));
}

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

async function mayRead(data, topic) {
  if (topic === "announcements") return true;
  if (typeof topic === "string" && topic.startsWith("user:")) {
    return data.role === "admin" || topic === `user:${data.userId}`;
  }
  const room = typeof topic === "string" && /^room:(\d+)$/.exec(topic);
  if (room) return isMember(Number(room[1]), data.userId);
  return false;
}

io.on("connection", (socket) => {
  // socket.recovered: the rooms and socket.data are restored and missed broadcasts replayed; a fresh
  // socket subscribes itself. Either way there is nothing to do here.
  socket.on("subscribe", async (topic, ack) => {
    if (typeof ack !== "function") return;
    let allowed = false;
    try {
      allowed = await mayRead(socket.data, topic);
    } catch (err) {
      console.error(`subscribe: ${err.message}`);
    }
    if (!allowed) return ack({ error: "forbidden" });
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
Promise.all([prepareChat(), prepareRedis()]).then(
  () => {
    httpServer.listen(Number(process.env.PORT || 0), process.env.HOST || "127.0.0.1", () => {
      process.stdout.write(`listening ${httpServer.address().port}\n`);
    });
  },
  (err) => {
    console.error(`cannot prepare the chat database or Redis: ${err.message}`);
    process.exit(1);
  },
);
