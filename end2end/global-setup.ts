// Starts the release server on 127.0.0.1:0 with a fresh SQLite database and demo data, waits until it
// answers /healthz, and hands its address to the tests. The returned function stops it.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export default async function globalSetup() {
  const root = path.resolve(__dirname, "..");
  const binary = process.env.STUDYHALL_SERVER_BIN ?? path.join(root, "target/release/studyhall-server");
  const dataDir = mkdtempSync(path.join(tmpdir(), "studyhall-e2e-"));
  const server = spawn(binary, [], {
    cwd: root,
    env: {
      ...process.env,
      STUDYHALL_LISTEN: "127.0.0.1:0",
      STUDYHALL_DATA_DIR: dataDir,
      STUDYHALL_SITE_ROOT: path.join(root, "target/site"),
      STUDYHALL_DEMO_DATA: "true",
      STUDYHALL_LOG: process.env.STUDYHALL_LOG ?? "info,tower_http=warn",
      NO_COLOR: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${log}`)), 60_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (process.env.STUDYHALL_E2E_LOG) process.stdout.write(chunk);
      const match = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  // Listening is not the same as serving pages: poll until the health check and a page answer.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const health = await fetch(`${baseUrl}/healthz`);
      const login = await fetch(`${baseUrl}/login`);
      if (health.ok && login.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`server at ${baseUrl} never became healthy:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  process.env.STUDYHALL_BASE_URL = baseUrl;
  return async () => {
    server.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    // The server's log, for looking into a failure after the fact.
    const results = path.join(__dirname, "test-results");
    mkdirSync(results, { recursive: true });
    writeFileSync(path.join(results, "server.log"), log);
    rmSync(dataDir, { recursive: true, force: true });
  };
}
