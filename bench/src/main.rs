//! `studyhall-bench`: runs every benchmark scenario against Studyhall and the Socket.IO reference and
//! writes the report. `studyhall-bench run --help` lists the options; see docs/BENCHMARKS.md.

mod chat_queries;
mod check;
mod client;
mod cluster;
mod hist;
mod publisher;
mod realtime;
mod report;
mod systems;
mod web;
mod worker;

use client::System;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use worker::Error;

const USAGE: &str = "usage: studyhall-bench run [--quick] [--check] [--merge] [--only idle,fanout,fanout-large,chat,chat-queries,storm,cluster,ssr] [--systems studyhall,socketio]
                            [--out FILE.md] [--json FILE.json]
                            [--server target/release/studyhall-server] [--site target/site] [--socketio bench/socketio]
                            [--render-nginx deploy/render-nginx.sh]
Runs each scenario against Studyhall and Socket.IO 4.8 and writes the report. The markdown goes between the
`<!-- report:start -->` and `<!-- report:end -->` markers of --out if it has them, else replaces the file.
--check fails the run (after writing the report) if a scenario failed or Studyhall lost, doubled or dropped
anything (in `cluster` also across the node it kills); no figure is compared with a threshold.
`cluster` needs PostgreSQL (STUDYHALL_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres),
redis-server and nginx; it starts its own of the latter two on free loopback ports.
(`worker` and `bare` are used by the harness itself.)";

const START: &str = "<!-- report:start -->";
const END: &str = "<!-- report:end -->";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("worker") => worker::main(),
        Some("bare") => systems::bare_main(),
        Some("run") => run(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("studyhall-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    quick: bool,
    /// Fail if the report shows a failed scenario or a correctness problem (see `check`).
    check: bool,
    /// Start from the figures already in --json and replace only the scenarios run now.
    merge: bool,
    only: Vec<String>,
    systems: Vec<System>,
    out: PathBuf,
    json: PathBuf,
    paths: systems::Paths,
}

fn options(args: &[String]) -> Result<Options, Error> {
    let mut o = Options {
        quick: false,
        check: false,
        merge: false,
        only: vec![
            "ssr".into(),
            "idle".into(),
            "fanout".into(),
            "fanout-large".into(),
            "chat".into(),
            "chat-queries".into(),
            "storm".into(),
            "cluster".into(),
        ],
        systems: vec![System::Studyhall, System::Socketio],
        out: "target/bench/BENCHMARKS.md".into(),
        json: "target/bench/report.json".into(),
        paths: systems::Paths {
            server_bin: "target/release/studyhall-server".into(),
            site_root: "target/site".into(),
            socketio_dir: "bench/socketio".into(),
            render_nginx: "deploy/render-nginx.sh".into(),
        },
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--quick" => o.quick = true,
            "--check" => o.check = true,
            "--merge" => o.merge = true,
            "--only" => o.only = value()?.split(',').map(str::to_string).collect(),
            "--systems" => {
                o.systems = value()?
                    .split(',')
                    .map(|s| match s {
                        "studyhall" => Ok(System::Studyhall),
                        "socketio" => Ok(System::Socketio),
                        other => Err(format!("unknown system {other}")),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--out" => o.out = value()?.into(),
            "--json" => o.json = value()?.into(),
            "--server" => o.paths.server_bin = value()?.into(),
            "--site" => o.paths.site_root = value()?.into(),
            "--socketio" => o.paths.socketio_dir = value()?.into(),
            "--render-nginx" => o.paths.render_nginx = value()?.into(),
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}\n{USAGE}").into()),
        }
    }
    Ok(o)
}

fn say(message: &str) {
    eprintln!("\x1b[1;34m==>\x1b[0m {message}");
}

fn run(args: &[String]) -> Result<(), Error> {
    let o = options(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let started = std::time::Instant::now();
        let sizes = if o.quick {
            realtime::Sizes::quick()
        } else {
            realtime::Sizes::full()
        };
        let command = std::iter::once("studyhall-bench run".to_string())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        let mut report = json!({});
        if o.merge {
            if let Ok(text) = std::fs::read_to_string(&o.json) {
                report = serde_json::from_str(&text)?;
            }
        }
        report["command"] = command.into();
        report["machine"] = report::machine();
        report["sizes"] = format!("{sizes:?}").into();
        if o.only.iter().any(|s| s == "ssr") || o.systems.contains(&System::Studyhall) {
            systems::precompress(&o.paths).await?;
        }
        for scenario in &o.only {
            match scenario.as_str() {
                "ssr" => {
                    say("SSR and first load (Studyhall with demo data; bare axum)");
                    let secs = if o.quick { 3 } else { 10 };
                    let (ssr, first) = web::ssr_and_first_load(&o.paths, secs).await?;
                    report["ssr"] = ssr;
                    report["first_load"] = first;
                }
                "chat-queries" => {
                    say("chat reads: history, room list, search (Studyhall)");
                    let q = if o.quick {
                        chat_queries::QuerySizes::quick()
                    } else {
                        chat_queries::QuerySizes::full()
                    };
                    let value = chat_queries::run(&o.paths, &q)
                        .await
                        .unwrap_or_else(|e| json!({"error": e.to_string()}));
                    eprintln!("{value}");
                    report["chat_queries"] = json!({ "studyhall": value });
                }
                "idle" | "fanout" | "fanout-large" | "chat" | "storm" | "cluster" => {
                    let mut both = json!({});
                    for system in o.systems.iter().copied() {
                        say(&format!("{scenario}: {}", system.label()));
                        let result = match scenario.as_str() {
                            "idle" => realtime::idle(system, &o.paths, &sizes).await,
                            "fanout" => {
                                let w = realtime::Workload::Announcements;
                                realtime::fanout(system, &o.paths, &sizes, sizes.room, w).await
                            }
                            "fanout-large" => {
                                let (room, w) =
                                    (sizes.large_room, realtime::Workload::Announcements);
                                realtime::fanout(system, &o.paths, &sizes, room, w).await
                            }
                            "chat" => {
                                let w = realtime::Workload::Chat;
                                realtime::fanout(system, &o.paths, &sizes, sizes.room, w).await
                            }
                            "cluster" => cluster::cluster(system, &o.paths, &sizes).await,
                            _ => realtime::storm(system, &o.paths, &sizes).await,
                        };
                        let value = result.unwrap_or_else(|e| json!({"error": e.to_string()}));
                        eprintln!("{value}");
                        both[key(system)] = value;
                    }
                    report[scenario.replace('-', "_")] = both;
                }
                other => return Err(format!("unknown scenario {other}").into()),
            }
        }
        report["elapsed_seconds"] = started.elapsed().as_secs().into();
        write(&o, &report)?;
        say(&format!(
            "report written to {} and {} in {} s",
            o.out.display(),
            o.json.display(),
            started.elapsed().as_secs()
        ));
        let problems = check::problems(&report);
        if o.check && !problems.is_empty() {
            return Err(format!(
                "the run shows {} problem(s):\n  {}",
                problems.len(),
                problems.join("\n  ")
            )
            .into());
        }
        for problem in problems {
            say(&format!("problem: {problem}"));
        }
        Ok(())
    })
}

fn key(system: System) -> &'static str {
    match system {
        System::Studyhall => "studyhall",
        System::Socketio => "socketio",
    }
}

fn write(o: &Options, report: &Value) -> Result<(), Error> {
    for path in [&o.out, &o.json] {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
    }
    std::fs::write(&o.json, serde_json::to_string_pretty(report)?)?;
    let generated = report::markdown(report);
    let existing = std::fs::read_to_string(&o.out).unwrap_or_default();
    let text = match (existing.find(START), existing.find(END)) {
        (Some(a), Some(b)) if a < b => format!(
            "{}{START}\n{}{END}{}",
            &existing[..a],
            generated.trim_start_matches("# Benchmarks\n\n"),
            &existing[b + END.len()..]
        ),
        _ => generated,
    };
    std::fs::write(&o.out, text)?;
    Ok(())
}
