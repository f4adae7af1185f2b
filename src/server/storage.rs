//! Where uploaded files live: a content-addressed [`BlobStore`] (the key is the SHA-256 of the
//! bytes, so the same file uploaded twice is stored once) with a filesystem implementation under the
//! data directory. The trait is shaped for an object store (whole-object put, get and delete by key),
//! so an S3-style implementation can replace [`FsBlobStore`] without touching the services.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

pub type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send + 'a>>;

/// Whole objects by key. Keys are [`content_key`]s: lowercase hex, 64 characters.
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` under `key`; storing the same key again leaves one copy.
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BlobFuture<'a, ()>;
    /// The object under `key`, or `None` when there is none.
    fn get<'a>(&'a self, key: &'a str) -> BlobFuture<'a, Option<Bytes>>;
    /// Removes the object under `key`; removing a missing one is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BlobFuture<'a, ()>;
}

/// The key of `bytes`: their SHA-256 in lowercase hex.
pub fn content_key(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn valid_key(key: &str) -> io::Result<()> {
    if key.len() == 64
        && key
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a content key",
        ))
    }
}

/// Objects as files: `{root}/ab/cd/abcd…` (two levels of fan-out keep directories small). A put
/// writes a temporary file and renames it into place, so a reader never sees half a file.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FsBlobStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        valid_key(key)?;
        Ok(self.root.join(&key[0..2]).join(&key[2..4]).join(key))
    }
}

impl BlobStore for FsBlobStore {
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path(key)?;
            if tokio::fs::try_exists(&path).await? {
                return Ok(());
            }
            let dir = path.parent().expect("a key's path has a parent");
            tokio::fs::create_dir_all(dir).await?;
            let temp = dir.join(format!(".{key}.{}.part", rand::random::<u64>()));
            tokio::fs::write(&temp, &bytes).await?;
            if let Err(e) = tokio::fs::rename(&temp, &path).await {
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(e);
            }
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BlobFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            match tokio::fs::read(self.path(key)?).await {
                Ok(bytes) => Ok(Some(Bytes::from(bytes))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path(key)?).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn objects_are_stored_once_by_content_read_back_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let bytes = Bytes::from_static(b"some file");
        let key = content_key(&bytes);
        assert_eq!(key.len(), 64);
        assert_eq!(store.get(&key).await.unwrap(), None);
        store.put(&key, bytes.clone()).await.unwrap();
        store.put(&key, bytes.clone()).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), Some(bytes));
        let files: Vec<_> = walk(dir.path());
        assert_eq!(files.len(), 1, "one copy, no temporary left: {files:?}");
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_key_that_is_not_a_digest_never_reaches_the_filesystem() {
        let store = FsBlobStore::new("/nonexistent");
        for bad in ["../../etc/passwd", "", &"A".repeat(64), &"g".repeat(64)] {
            let e = store.get(bad).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
