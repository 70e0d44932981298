//! The print queue for post: a folder of PDFs, one per letter, and `manifest.json` listing the
//! letters waiting to be printed, oldest first. Staff print what the manifest lists, post it
//! and mark each printed (`POST /api/v1/print-queue/{id}/printed`); the manifest is rebuilt
//! from the database whenever the queue changes, so it is the same on every node and after a
//! crash. Files are written whole under a temporary name and renamed into place, so a printer
//! script never reads half a file, and synced with their folder before the letter is recorded
//! as sent, so a power cut cannot take back a letter marked sent; a letter sent again after a
//! crash overwrites its own file.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use crate::store::OutboxItem;

/// One letter waiting in the print queue, as `manifest.json` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    pub id: i64,
    pub reference: String,
    pub kind: String,
    /// `customer` or `third_party` (a third party's address must be written in by hand).
    pub recipient: String,
    /// The PDF's file name in the folder.
    pub file: String,
    pub large_print: bool,
    pub created_at: Timestamp,
    /// When it was put in the queue.
    pub queued_at: Option<Timestamp>,
}

impl ManifestEntry {
    pub fn of(item: &OutboxItem) -> ManifestEntry {
        ManifestEntry {
            id: item.id,
            reference: item.reference.clone(),
            kind: item.kind.clone(),
            recipient: item.recipient().to_owned(),
            file: item
                .print_file
                .clone()
                .unwrap_or_else(|| file_name(item.id, &item.reference, &item.kind)),
            large_print: item.large_print,
            created_at: item.created_at,
            queued_at: item.sent_at,
        }
    }
}

#[derive(Debug, Serialize)]
struct Manifest<'a> {
    generated_at: Timestamp,
    letters: &'a [ManifestEntry],
}

/// The PDF's name: sorts by id, and says what it is.
pub fn file_name(id: i64, reference: &str, kind: &str) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("letter-{id:08}-{}-{}.pdf", safe(reference), safe(kind))
}

/// Writes `bytes` to `path` whole and durably (`durable::write_whole`: a temporary file,
/// synced, renamed into place, the folder synced), off the async threads.
pub async fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (path, bytes) = (path.to_owned(), bytes.to_vec());
    tokio::task::spawn_blocking(move || crate::durable::write_whole(&path, &bytes))
        .await
        .map_err(std::io::Error::other)?
}

/// Like [`write_whole`], without the folder's sync (`durable::write_synced`): the sender syncs
/// the folder once for every letter it records together.
pub async fn write_synced(path: &Path, bytes: Vec<u8>) -> std::io::Result<()> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || crate::durable::write_synced(&path, &bytes))
        .await
        .map_err(std::io::Error::other)?
}

/// Syncs a folder (`durable::sync_dir`), off the async threads.
pub async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || crate::durable::sync_dir(&dir))
        .await
        .map_err(std::io::Error::other)?
}

/// The print queue folder.
#[derive(Debug, Clone)]
pub struct PrintQueue {
    dir: PathBuf,
}

impl PrintQueue {
    pub fn new(dir: PathBuf) -> PrintQueue {
        PrintQueue { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Puts a letter's PDF in the folder; returns its file name.
    pub async fn put(&self, item: &OutboxItem, pdf: &[u8]) -> std::io::Result<String> {
        let name = self.put_synced(item, pdf.to_vec()).await?;
        sync_dir(&self.dir).await?;
        Ok(name)
    }

    /// Puts a letter's PDF in the folder with the folder not yet synced (see [`write_synced`]);
    /// returns its file name.
    pub async fn put_synced(&self, item: &OutboxItem, pdf: Vec<u8>) -> std::io::Result<String> {
        let name = file_name(item.id, &item.reference, &item.kind);
        write_synced(&self.dir.join(&name), pdf).await?;
        Ok(name)
    }

    /// Rewrites `manifest.json` from the letters waiting to be printed.
    pub async fn write_manifest(
        &self,
        waiting: &[ManifestEntry],
        now: Timestamp,
    ) -> std::io::Result<()> {
        let manifest = Manifest {
            generated_at: now,
            letters: waiting,
        };
        let mut json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
        json.push(b'\n');
        write_whole(&self.dir.join("manifest.json"), &json).await
    }
}
