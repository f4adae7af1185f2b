//! The HTTP scenarios: the signed-in dashboard rendered on the server beside a bare axum handler,
//! and the first load (what a browser downloads, brotli-compressed, to run the dashboard).

use crate::hist::Histogram;
use crate::systems::{cpu_us_of, start_bare, Paths, Studyhall};
use crate::worker::Error;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Closed-loop load: `concurrency` keep-alive connections requesting `url` back to back. A response
/// whose body lacks `expect` counts as an error: a page that rendered without its data must not pass
/// for a fast one. The CPU time `server_pid` used in the measured window, per request, is the figure
/// the load generator's share of the cores does not move.
pub async fn load(
    url: &str,
    server_pid: u32,
    token: Option<&str>,
    expect: Option<&str>,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<Value, Error> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(10))
        .build()?;
    let hist = Arc::new(Mutex::new(Histogram::default()));
    let errors = Arc::new(Mutex::new(0u64));
    let bytes = Arc::new(Mutex::new(0u64));
    let started = Instant::now();
    let measure_from = started + warmup;
    let end = measure_from + duration;
    let server_cpu = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from).await;
        let before = cpu_us_of(server_pid);
        tokio::time::sleep_until(end).await;
        cpu_us_of(server_pid).saturating_sub(before)
    });
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_string());
            let auth = token.map(|t| format!("Bearer {t}"));
            let expect = expect.map(|e| e.as_bytes().to_vec());
            let (hist, errors, bytes) = (hist.clone(), errors.clone(), bytes.clone());
            tokio::spawn(async move {
                let mut local = Histogram::default();
                let (mut local_errors, mut local_bytes) = (0, 0);
                while Instant::now() < end {
                    let t0 = Instant::now();
                    let mut request = client.get(&url);
                    if let Some(a) = &auth {
                        request = request.header("authorization", a);
                    }
                    let ok = match request.send().await {
                        Ok(r) if r.status().is_success() => match r.bytes().await {
                            Ok(b) if expect.as_ref().is_none_or(|e| contains(&b, e)) => {
                                local_bytes = b.len() as u64;
                                true
                            }
                            Ok(_) => {
                                eprintln!(
                                    "load: {url} answered without {:?}",
                                    String::from_utf8_lossy(expect.as_deref().unwrap_or_default())
                                );
                                false
                            }
                            Err(e) => {
                                eprintln!("load: reading a body failed: {e}");
                                false
                            }
                        },
                        Ok(r) => {
                            eprintln!("load: {url} answered {}", r.status());
                            false
                        }
                        Err(e) => {
                            eprintln!("load: {url}: {e:?}");
                            false
                        }
                    };
                    if t0 >= measure_from && Instant::now() <= end {
                        if ok {
                            local.record(t0.elapsed().as_micros() as u64);
                        } else {
                            local_errors += 1;
                        }
                    }
                }
                hist.lock().unwrap().merge(&local);
                *errors.lock().unwrap() += local_errors;
                *bytes.lock().unwrap() = local_bytes;
            })
        })
        .collect();
    futures_util::future::join_all(tasks).await;
    let server_cpu_us = server_cpu.await.unwrap_or(0);
    let hist = hist.lock().unwrap().clone();
    let errors = *errors.lock().unwrap();
    let body_bytes = *bytes.lock().unwrap();
    Ok(json!({
        "requests": hist.count(),
        "errors": errors,
        "requests_per_sec": (hist.count() as f64 / duration.as_secs_f64()).round(),
        "p50_us": hist.quantile(0.5),
        "p99_us": hist.quantile(0.99),
        "max_us": hist.max(),
        "body_bytes": body_bytes,
        "concurrency": concurrency,
        "server_cpu_us_per_request": (server_cpu_us as f64 / hist.count().max(1) as f64).round(),
    }))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

async fn demo_token(base: &str) -> Result<String, Error> {
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": "ana@studyhall.test", "password": "studyhall-demo"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(answer["token"]
        .as_str()
        .ok_or("no token in the sign-in answer")?
        .to_string())
}

/// Scenarios 4 and 5 share one server: Studyhall with its demo data, signed in as a demo student.
pub async fn ssr_and_first_load(paths: &Paths, secs: u64) -> Result<(Value, Value), Error> {
    let deployment = Studyhall::new(paths)?;
    let server = deployment.start(true).await?;
    let base = format!("http://{}", server.addr);
    let token = demo_token(&base).await?;
    let first_load = first_load(&base, &token).await?;
    let concurrency = 32;
    let warmup = Duration::from_secs(2);
    let duration = Duration::from_secs(secs);
    let dashboard = load(
        &format!("{base}/"),
        server.pid,
        Some(&token),
        // Only in the student panel once its data is in.
        Some("data-testid=\"kpi-hours\""),
        concurrency,
        warmup,
        duration,
    )
    .await?;
    // The same server rendering a page that loads no data: what Leptos and the middleware cost on
    // their own, so the report can tell the framework's share from the dashboard's queries.
    let sign_in = load(
        &format!("{base}/login"),
        server.pid,
        None,
        Some("type=\"password\""),
        concurrency,
        warmup,
        duration,
    )
    .await?;
    server.stop().await;
    let (mut bare_child, bare_addr) = start_bare().await?;
    let bare_pid = bare_child.id().ok_or("the bare server exited at start")?;
    let bare = load(
        &format!("http://{bare_addr}/"),
        bare_pid,
        None,
        None,
        concurrency,
        warmup,
        duration,
    )
    .await?;
    let _ = bare_child.kill().await;
    Ok((
        json!({"dashboard": dashboard, "sign_in": sign_in, "bare_axum": bare}),
        first_load,
    ))
}

/// Every `/pkg/…` asset the dashboard's HTML names, and every module those scripts import statically,
/// fetched as a browser would (`Accept-Encoding: br`); sizes are what came over the wire. Chunks a
/// script only loads on demand (`import(…)`, a lazy page's WASM) are not part of the first load.
async fn first_load(base: &str, token: &str) -> Result<Value, Error> {
    let client = reqwest::Client::new();
    let html = client
        .get(format!("{base}/"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut assets: Vec<String> = Vec::new();
    for (at, _) in html.match_indices("/pkg/") {
        let end = html[at..]
            .find(['"', '\'', ')', ' ', '>'])
            .map_or(html.len(), |e| at + e);
        let path = html[at..end].to_string();
        if !assets.contains(&path) {
            assets.push(path);
        }
    }
    let mut files = Vec::new();
    let (mut total, mut wasm, mut js, mut css) = (0u64, 0u64, 0u64, 0u64);
    let mut next = 0;
    while let Some(path) = assets.get(next).cloned() {
        next += 1;
        let response = client
            .get(format!("{base}{path}"))
            .header("accept-encoding", "br")
            .send()
            .await?
            .error_for_status()?;
        let encoding = response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_string();
        let size = response.bytes().await?.len() as u64;
        let raw = client
            .get(format!("{base}{path}"))
            .send()
            .await?
            .bytes()
            .await?;
        total += size;
        if path.ends_with(".wasm") {
            wasm += size;
        } else if path.ends_with(".js") {
            js += size;
            for import in static_imports(&String::from_utf8_lossy(&raw), &path) {
                if !assets.contains(&import) {
                    assets.push(import);
                }
            }
        } else if path.ends_with(".css") {
            css += size;
        }
        files.push(
            json!({"path": path, "encoding": encoding, "bytes": size, "raw_bytes": raw.len()}),
        );
    }
    Ok(
        json!({"total_bytes": total, "wasm_bytes": wasm, "js_bytes": js, "css_bytes": css,
              "html_bytes": html.len(), "files": files}),
    )
}

/// The relative modules a script imports statically (`import … from "./x.js"`, `import "./x.js"`),
/// as paths beside `from`. Dynamic `import("…")` is left out: it runs on demand.
fn static_imports(script: &str, from: &str) -> Vec<String> {
    let dir = from.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut found = Vec::new();
    for (at, _) in script.match_indices("import") {
        let rest = &script[at + "import".len()..];
        let word_starts =
            !script[..at].ends_with(|c: char| c.is_alphanumeric() || "_$.".contains(c));
        let statement_follows = rest.starts_with([' ', '\n', '{', '*', '"', '\'']);
        if !word_starts || !statement_follows || rest.trim_start().starts_with('(') {
            continue;
        }
        let statement = rest.split(';').next().unwrap_or("");
        let specifier = statement
            .rsplit(['"', '\''])
            .nth(1)
            .filter(|s| s.starts_with("./") && s.ends_with(".js"));
        if let Some(specifier) = specifier {
            found.push(format!("{dir}/{}", &specifier[2..]));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::static_imports;

    #[test]
    fn static_imports_are_followed_and_dynamic_ones_are_not() {
        let script = "import { a } from './__wasm_split.js';\nimport \"./side.js\";\n\
                      const m = await import('./lazy.js');\nimports.wbg = './no.js';\nimport * as x from \"https://x/y.js\";";
        assert_eq!(
            static_imports(script, "/pkg/studyhall.js"),
            vec![
                "/pkg/__wasm_split.js".to_string(),
                "/pkg/side.js".to_string()
            ]
        );
    }
}
