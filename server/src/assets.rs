//! The built site's `/pkg` files (WASM, JS, CSS): served from brotli files compressed once at the
//! highest quality instead of compressing on every request at the fast default. Each `x.wasm` gets an
//! `x.wasm.br` beside it, written in the background at start-up when missing or older than its source.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tower_http::services::ServeDir;

const COMPRESSED: [&str; 3] = ["wasm", "js", "css"];

/// `/pkg/*`: the `.br` twin when the browser accepts brotli and it exists, the file itself otherwise
/// (the compression layer then compresses it on the fly).
pub fn service(site_root: &Path) -> ServeDir {
    ServeDir::new(site_root.join("pkg")).precompressed_br()
}

/// Writes missing or stale `.br` files without holding up start-up.
pub fn precompress_in_background(site_root: &Path) {
    let site_root = site_root.to_path_buf();
    tokio::task::spawn_blocking(move || precompress(&site_root));
}

/// Writes missing or stale `.br` files now (`studyhall-server precompress`, run after a build so that
/// the first start does not spend seconds compressing); returns how many it wrote.
pub fn precompress(site_root: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(site_root.join("pkg")) else {
        return 0;
    };
    let mut written = 0;
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSED.contains(&e));
        if wanted && stale(&path) {
            match compress(&path) {
                Ok(()) => written += 1,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "could not precompress an asset")
                }
            }
        }
    }
    written
}

fn twin(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".br");
    PathBuf::from(name)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn stale(path: &Path) -> bool {
    match (modified(path), modified(&twin(path))) {
        (Some(source), Some(br)) => br < source,
        _ => true,
    }
}

/// Quality 11, 4 MiB window; written to a temporary name and renamed, so that a reader (or another
/// server starting at the same time) never sees half a file.
fn compress(path: &Path) -> std::io::Result<()> {
    let input = std::fs::read(path)?;
    let target = twin(path);
    let temporary = target.with_extension(format!("br.{}.tmp", std::process::id()));
    {
        let file = std::fs::File::create(&temporary)?;
        let mut writer = brotli::CompressorWriter::new(file, 64 * 1024, 11, 22);
        writer.write_all(&input)?;
        writer.flush()?;
    }
    std::fs::rename(&temporary, &target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn compresses_once_and_again_when_the_source_changes() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("app.wasm");
        std::fs::write(&wasm, b"(module) ".repeat(1000)).unwrap();
        assert!(stale(&wasm));
        compress(&wasm).unwrap();
        assert!(!stale(&wasm));
        let mut round_trip = Vec::new();
        brotli::Decompressor::new(std::fs::File::open(twin(&wasm)).unwrap(), 4096)
            .read_to_end(&mut round_trip)
            .unwrap();
        assert_eq!(round_trip, std::fs::read(&wasm).unwrap());
        assert!(std::fs::metadata(twin(&wasm)).unwrap().len() < 200);
        // A newer source makes the twin stale.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&wasm, b"(module changed)").unwrap();
        assert!(stale(&wasm));
    }
}
