//! Load processes. The coordinator starts several copies of this binary (`studyhall-bench worker`),
//! because a process may hold at most 20,000 open files here; each gets its connections as one JSON
//! line on stdin, then answers one-line commands with one JSON line:
//! `status`, `step <start_us> <mid_us>` (reset latency windows and frame counts), `hist` (latencies,
//! frame bytes, one sample frame), `seqs <m> [excluded,…]`, `quit`.

use crate::client::{self, Stats, WorkerConfig};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::process::Stdio;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The worker process's main: one thread, one task per connection.
pub fn main() -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, serve())
}

async fn serve() -> Result<(), Error> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let first = lines
        .next_line()
        .await?
        .ok_or("no configuration on stdin")?;
    let config: Rc<WorkerConfig> = Rc::new(serde_json::from_str(&first)?);
    let n = config.conns.len();
    let stats = Rc::new(RefCell::new(Stats {
        ready_flags: vec![false; n],
        settled_flags: vec![false; n],
        seqs: if config.track_seqs {
            vec![Vec::new(); n]
        } else {
            Vec::new()
        },
        ..Stats::default()
    }));
    {
        let (config, stats) = (config.clone(), stats.clone());
        tokio::task::spawn_local(async move {
            // Paced so that the accept queue is not flooded (both servers get the same pace).
            let gap = Duration::from_secs_f64(1.0 / config.connects_per_sec.max(1) as f64);
            let mut tick = tokio::time::interval(gap);
            for i in 0..config.conns.len() {
                tick.tick().await;
                // Bounded set-up: wait for a slot among the connections still on their first try.
                while config.max_connecting > 0
                    && (i as u64).saturating_sub(stats.borrow().settled)
                        >= config.max_connecting as u64
                {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                tokio::task::spawn_local(client::run(i, config.clone(), stats.clone()));
            }
        });
    }
    let mut out = tokio::io::stdout();
    while let Some(line) = lines.next_line().await? {
        let mut words = line.split_whitespace();
        let reply = match words.next() {
            Some("status") => {
                let s = stats.borrow();
                json!({"open": s.open, "ready": s.ready, "closed": s.closed, "failed": s.failed,
                       "received": s.received, "resets": s.resets, "recovered": s.recovered,
                       "dupes": s.dupes})
            }
            Some("step") => {
                let mut s = stats.borrow_mut();
                s.start_us = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                s.mid_us = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(u64::MAX);
                s.first = Default::default();
                s.second = Default::default();
                s.received = 0;
                s.frame_bytes = 0;
                json!({"ok": true})
            }
            Some("hist") => {
                let s = stats.borrow();
                json!({"received": s.received, "first": s.first, "second": s.second,
                       "frame_bytes": s.frame_bytes, "sample": s.sample})
            }
            Some("seqs") => {
                let m = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                // Optional: the numbers not to expect, comma-separated (publishes that failed).
                let excluded: Vec<u64> = words
                    .next()
                    .map(|w| w.split(',').filter_map(|n| n.parse().ok()).collect())
                    .unwrap_or_default();
                let (complete, missing) = stats.borrow().completeness(m, &excluded);
                json!({"complete": complete, "missing": missing, "dupes": stats.borrow().dupes})
            }
            Some("quit") => break,
            _ => json!({"error": "unknown command"}),
        };
        out.write_all(format!("{reply}\n").as_bytes()).await?;
        out.flush().await?;
    }
    Ok(())
}

/// The coordinator's side of one worker process.
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Worker {
    pub async fn spawn(config: &WorkerConfig) -> Result<Worker, Error> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut stdin = child.stdin.take().ok_or("worker stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("worker stdout")?).lines();
        stdin
            .write_all(format!("{}\n", serde_json::to_string(config)?).as_bytes())
            .await?;
        stdin.flush().await?;
        Ok(Worker {
            child,
            stdin,
            stdout,
        })
    }

    pub async fn ask(&mut self, command: &str) -> Result<Value, Error> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        let line = self
            .stdout
            .next_line()
            .await?
            .ok_or("a worker process ended")?;
        Ok(serde_json::from_str(&line)?)
    }

    pub async fn quit(mut self) {
        let _ = self.stdin.write_all(b"quit\n").await;
        let _ = self.stdin.flush().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        let _ = self.child.kill().await;
    }
}

/// A group of workers asked the same thing at once.
pub struct Fleet(pub Vec<Worker>);

impl Fleet {
    pub async fn spawn(configs: Vec<WorkerConfig>) -> Result<Fleet, Error> {
        let mut workers = Vec::new();
        for c in &configs {
            workers.push(Worker::spawn(c).await?);
        }
        Ok(Fleet(workers))
    }

    pub async fn ask(&mut self, command: &str) -> Result<Vec<Value>, Error> {
        let answers =
            futures_util::future::join_all(self.0.iter_mut().map(|w| w.ask(command))).await;
        answers.into_iter().collect()
    }

    /// The sum of one numeric field over all workers.
    pub async fn sum(&mut self, command: &str, field: &str) -> Result<u64, Error> {
        Ok(self
            .ask(command)
            .await?
            .iter()
            .map(|v| v[field].as_u64().unwrap_or(0))
            .sum())
    }

    pub async fn status(&mut self) -> Result<Value, Error> {
        let all = self.ask("status").await?;
        let mut total = json!({});
        for key in [
            "open",
            "ready",
            "closed",
            "failed",
            "received",
            "resets",
            "recovered",
            "dupes",
        ] {
            total[key] = all
                .iter()
                .map(|v| v[key].as_u64().unwrap_or(0))
                .sum::<u64>()
                .into();
        }
        Ok(total)
    }

    /// Waits until `want` connections are ready or `limit` passes; returns how many are.
    pub async fn wait_ready(&mut self, want: u64, limit: Duration) -> Result<u64, Error> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let ready = self.status().await?["ready"].as_u64().unwrap_or(0);
            if ready >= want || tokio::time::Instant::now() >= deadline {
                return Ok(ready);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn quit(self) {
        futures_util::future::join_all(self.0.into_iter().map(Worker::quit)).await;
    }
}

/// Splits connections over `processes` workers that share everything else.
pub fn split(template: &WorkerConfig, processes: usize) -> Vec<WorkerConfig> {
    let per = template.conns.len().div_ceil(processes.max(1)).max(1);
    template
        .conns
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let mut sources = template.sources.clone();
            let shift = i % sources.len().max(1);
            sources.rotate_left(shift);
            WorkerConfig {
                conns: chunk.to_vec(),
                sources,
                ..template.clone()
            }
        })
        .collect()
}
