//! The layout ARCHITECTURE.md promises: every source file opens with a doc line saying what it owns,
//! and `src/server/` holds infrastructure only (a domain's service lives in `src/<domain>/`).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_source_file_opens_with_a_line_saying_what_it_owns() {
    let mut files = Vec::new();
    for dir in [
        "src",
        "app/src",
        "server/src",
        "frontend/src",
        "bench/src",
        "tests",
        "server/tests",
    ] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 50, "found only {} files", files.len());
    let undocumented: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(
        undocumented.is_empty(),
        "these files do not start with a `//!` line saying what they own: {undocumented:?}"
    );
}

#[test]
fn src_server_holds_only_infrastructure() {
    // Adding to this list is a decision: a feature's service belongs in its domain's folder
    // (`src/<domain>/service.rs`, see ARCHITECTURE.md, "How to add a live feature").
    let infrastructure = [
        // Several nodes as one: the Redis bus, limits across nodes, the jobs' lease.
        "cluster",
        "db.rs",
        "demo.rs",
        "dialect.rs",
        "idempotency.rs",
        "mod.rs",
        "realtime",
        // Content-addressed file storage: chat attachments now, shared notes and exams later.
        "storage.rs",
        "web.rs",
    ];
    let mut present: Vec<String> = std::fs::read_dir(root().join("src/server"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    let unexpected: Vec<&String> = present
        .iter()
        .filter(|name| !infrastructure.contains(&name.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "src/server/ is for infrastructure; move {unexpected:?} into its domain's folder"
    );
}
