// The Socket.IO 4.8 reference for the benchmark: the same work Studyhall does in each scenario, set
// up as https://socket.io/docs/v4/performance-tuning/ recommends for a Node.js server that can use
// npm only: the native `bufferutil` and `utf-8-validate` add-ons for `ws`, the initial HTTP request
// discarded after the handshake, no per-message deflate, WebSocket transport only. (uWebSockets.js is
// not published on npm, so it is not used.) JWT auth at the handshake, rooms, connection state recovery.
"use strict";
const http = require("http");
const jwt = require("jsonwebtoken");
const { Server } = require("socket.io");

const secret = process.env.JWT_SECRET;
if (!secret) {
  console.error("JWT_SECRET is required");
  process.exit(2);
}

function verify(token) {
  try {
    const claims = jwt.verify(token, secret, { algorithms: ["HS256"] });
    return { userId: String(claims.sub), role: claims.role };
  } catch {
    return null;
  }
}

let nextId = 1;

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const httpServer = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    return res.end("ok");
  }
  if (req.method !== "POST" || req.url !== "/api/v1/announcements") {
    return reply(res, 404, { code: "not_found" });
  }
  const auth = req.headers.authorization || "";
  const caller = auth.startsWith("Bearer ") ? verify(auth.slice(7)) : null;
  if (!caller) return reply(res, 401, { code: "unauthenticated" });
  if (caller.role !== "admin") return reply(res, 403, { code: "forbidden" });
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size > 64 * 1024) {
      reply(res, 413, { code: "too_large" });
      req.destroy();
    } else {
      chunks.push(chunk);
    }
  });
  req.on("end", () => {
    if (res.writableEnded) return;
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return reply(res, 400, { code: "malformed" });
    }
    const { title, body: text } = body || {};
    if (typeof title !== "string" || title.trim().length < 1 || title.length > 120 ||
        typeof text !== "string" || text.trim().length < 1 || text.length > 2000) {
      return reply(res, 400, { code: "validation" });
    }
    const id = nextId++;
    const announcement = { id, title, body: text, author_name: null, created_at: Date.now(), offset: id };
    io.to("announcements").emit("announcement.created", announcement);
    reply(res, 201, announcement);
  });
});

const io = new Server(httpServer, {
  transports: ["websocket"],
  perMessageDeflate: false,
  connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
});

// Performance tuning: the handshake request is not needed after the handshake.
io.engine.on("connection", (rawSocket) => {
  rawSocket.request = null;
});

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
  // With socket.recovered the rooms are already restored; either way the client subscribes itself.
  socket.on("subscribe", (topic, ack) => {
    if (typeof ack !== "function") return;
    if (!mayRead(socket.data, topic)) return ack({ error: "forbidden" });
    socket.join(topic);
    ack({ ok: true });
  });
});

function stop() {
  setTimeout(() => process.exit(0), 2000).unref();
  io.close(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

httpServer.listen(Number(process.env.PORT || 0), process.env.HOST || "127.0.0.1", () => {
  process.stdout.write(`listening ${httpServer.address().port}\n`);
});
