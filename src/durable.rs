//! Files that must survive a power cut once the application says they are kept (a letter
//! marked sent, a scan whose event is committed). An `fsync` of a file keeps its bytes, but its
//! name lives in its folder, which is a file of its own: after a rename the folder must be
//! synced too, or the disk may come back with the old name or none. Folders made on the way
//! are synced into their parents for the same reason.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Folders this process has made durable (created, or found, and synced into their parents):
/// once is enough, nothing here removes them.
static KNOWN: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn known(dir: &Path) -> bool {
    KNOWN
        .lock()
        .ok()
        .and_then(|set| set.as_ref().map(|s| s.contains(dir)))
        .unwrap_or(false)
}

fn remember(dir: &Path) {
    if let Ok(mut set) = KNOWN.lock() {
        set.get_or_insert_with(HashSet::new).insert(dir.to_owned());
    }
}

/// Syncs a folder: the names created, renamed or removed in it are on the disk afterwards.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// The folder a path is in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// `create_dir_all`, with each folder's name synced into its parent, so that the folder is
/// still there after a power cut. A folder that already exists is synced into its parent the
/// first time too: another process (or thread) may have created it a moment ago and not
/// synced it yet.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    if known(dir) {
        return Ok(());
    }
    let parent = parent_of(dir);
    if parent != dir && !parent.is_dir() {
        create_dir_all(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
        Err(e) => return Err(e),
    }
    sync_dir(parent)?;
    remember(dir);
    Ok(())
}

/// Writes `bytes` to `path` whole and durably: a temporary file beside it, written and
/// synced, renamed into place, and the folder synced. Readers never see half a file, and once
/// this returns the file is there after a power cut.
pub fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_synced(path, bytes)?;
    sync_dir(parent_of(path))
}

/// [`write_whole`] without the folder's sync: the file's bytes are on the disk, its name is
/// once the caller syncs the folder ([`sync_dir`]), which one sync does for many files.
pub fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_of(path);
    create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Moves a synced file into place durably: renames it (unless `target` already exists, when
/// the copy is removed: same name, same content) and syncs the folder. Both must be in the
/// same folder.
pub fn rename_into_place(synced: &Path, target: &Path) -> io::Result<()> {
    if target.exists() {
        std::fs::remove_file(synced)?;
    } else {
        std::fs::rename(synced, target)?;
    }
    // Synced even when the target was there already: it may be another writer's, renamed a
    // moment ago and not yet synced.
    sync_dir(parent_of(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_written_whole_in_folders_made_on_the_way() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("a/b/letter.eml");
        write_whole(&path, b"first").expect("write");
        write_whole(&path, b"second").expect("write again");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a/b"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["letter.eml"], "no temporary file is left");
        create_dir_all(&dir.path().join("a/b")).expect("an existing folder is fine");
    }

    #[test]
    fn a_synced_copy_is_moved_into_place_once() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (copy, target) = (dir.path().join(".x.tmp"), dir.path().join("x"));
        std::fs::write(&copy, b"content").expect("write");
        rename_into_place(&copy, &target).expect("into place");
        std::fs::write(&copy, b"content").expect("write");
        rename_into_place(&copy, &target).expect("there already");
        assert!(!copy.exists());
        assert_eq!(std::fs::read(&target).expect("read"), b"content");
    }
}
