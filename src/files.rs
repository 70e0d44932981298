//! Files customers send: which kinds we take (checked by their first bytes, not only by their
//! names), how big, and where they are kept (content-addressed: `files_dir/<sha256>`).

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The largest file a customer may send.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The largest upload request: one file at the limit with the form's other fields.
pub const UPLOAD_BODY_LIMIT: usize = MAX_FILE_BYTES + 512 * 1024;

/// The kinds of file we take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
    Text,
}

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Text => "text/plain; charset=utf-8",
        }
    }

    /// The kind a file's name claims.
    fn from_name(name: &str) -> Option<Kind> {
        let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match extension.as_str() {
            "pdf" => Some(Kind::Pdf),
            "jpg" | "jpeg" => Some(Kind::Jpeg),
            "png" => Some(Kind::Png),
            "txt" => Some(Kind::Text),
            _ => None,
        }
    }

    /// Whether the bytes really are of this kind.
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Kind::Pdf => bytes.starts_with(b"%PDF-"),
            Kind::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            Kind::Png => bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
            Kind::Text => std::str::from_utf8(bytes).is_ok_and(|text| {
                text.chars()
                    .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
            }),
        }
    }
}

/// Why a file was not taken, as a sentence for the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    Empty,
    TooBig,
    WrongType,
}

/// Checks a file's name and first bytes agree and are of a kind we take.
pub fn check(name: &str, bytes: &[u8]) -> Result<Kind, FileProblem> {
    if bytes.is_empty() {
        return Err(FileProblem::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileProblem::TooBig);
    }
    match Kind::from_name(name) {
        Some(kind) if kind.matches(bytes) => Ok(kind),
        _ => Err(FileProblem::WrongType),
    }
}

/// A file name safe to keep and show: its last path part, without control characters, at
/// most 100 characters.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(100).collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

/// The SHA-256 of the bytes, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Keeps the bytes as `dir/<sha256>` (creating the folder), written to a temporary name and
/// renamed so that a half-written file is never seen, and synced with its folder so that it is
/// on the disk before anything recording it is committed. Returns the hash.
pub async fn keep(dir: PathBuf, bytes: Vec<u8>) -> std::io::Result<String> {
    tokio::task::spawn_blocking(move || keep_blocking(&dir, &bytes))
        .await
        .map_err(std::io::Error::other)?
}

fn keep_blocking(dir: &Path, bytes: &[u8]) -> std::io::Result<String> {
    let hash = sha256_hex(bytes);
    crate::durable::create_dir_all(dir)?;
    let path = dir.join(&hash);
    if path.exists() {
        // Perhaps another request's, renamed a moment ago and its folder not yet synced.
        crate::durable::sync_dir(dir)?;
        return Ok(hash);
    }
    let temporary = dir.join(format!(".{hash}.{}.tmp", crate::store::random_token()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        crate::durable::rename_into_place(&temporary, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map(|()| hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_judged_by_their_bytes_and_names() {
        assert_eq!(check("letter.pdf", b"%PDF-1.7 ..."), Ok(Kind::Pdf));
        assert_eq!(
            check("photo.JPG", &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2]),
            Ok(Kind::Jpeg)
        );
        assert_eq!(check("shot.png", b"\x89PNG\r\n\x1a\n rest"), Ok(Kind::Png));
        assert_eq!(
            check("notes.txt", "Hello\nthere ✓".as_bytes()),
            Ok(Kind::Text)
        );
        // A program renamed to look like a PDF, and a PDF with a name we do not take.
        assert_eq!(
            check("letter.pdf", b"MZ\x90\x00"),
            Err(FileProblem::WrongType)
        );
        assert_eq!(
            check("letter.exe", b"%PDF-1.7"),
            Err(FileProblem::WrongType)
        );
        assert_eq!(
            check("notes.txt", b"bin\x00ary"),
            Err(FileProblem::WrongType)
        );
        assert_eq!(
            check("no-extension", b"%PDF-1.7"),
            Err(FileProblem::WrongType)
        );
        assert_eq!(check("empty.txt", b""), Err(FileProblem::Empty));
        assert_eq!(
            check("big.txt", &vec![b'a'; MAX_FILE_BYTES + 1]),
            Err(FileProblem::TooBig)
        );
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("C:\\Users\\ann\\bill.pdf"), "bill.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b.txt"), "ab.txt");
        assert_eq!(clean_name(""), "file");
    }

    #[test]
    fn files_are_kept_by_their_hash() {
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("files");
        let hash = keep_blocking(&target, b"hello").expect("kept");
        assert_eq!(hash, sha256_hex(b"hello"));
        assert_eq!(std::fs::read(target.join(&hash)).expect("read"), b"hello");
        assert_eq!(keep_blocking(&target, b"hello").expect("kept again"), hash);
    }
}
