//! The rules through a real mount and real system calls: `write`, `fsync` (`sync_all`),
//! `fsync` on a directory, `rename`, then a power cut. Without /dev/fuse or root these say
//! they skipped, except under CI, where that is a failure.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use lossyfs::LossyFs;

fn mounted() -> Option<(tempfile::TempDir, LossyFs)> {
    if let Some(why) = lossyfs::unavailable() {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
            panic!("a FUSE filesystem cannot be mounted under CI: {why}");
        }
        eprintln!("skipped: a FUSE filesystem cannot be mounted here ({why})");
        return None;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let fs = LossyFs::mount(dir.path()).expect("mount lossyfs");
    Some((dir, fs))
}

fn sync_dir(path: &Path) {
    File::open(path)
        .and_then(|d| d.sync_all())
        .expect("fsync a directory");
}

fn write_synced(path: &Path, bytes: &[u8]) {
    let mut file = File::create(path).expect("create");
    file.write_all(bytes).expect("write");
    file.sync_all().expect("fsync");
}

#[test]
fn unsynced_data_is_lost_and_synced_data_kept() {
    let Some((_dir, mut fs)) = mounted() else {
        return;
    };
    let root = fs.path().to_owned();
    write_synced(&root.join("synced"), b"kept");
    fs::write(root.join("unsynced"), b"lost").expect("write");
    sync_dir(&root);
    // After the directory's sync both names are durable; only one file's data is.
    let mut file = OpenOptions::new()
        .append(true)
        .open(root.join("synced"))
        .expect("open");
    file.write_all(b" and this is not").expect("append");
    drop(file);
    assert_eq!(
        fs::read(root.join("synced")).expect("read"),
        b"kept and this is not"
    );
    let cut = fs.power_cut().expect("power cut");
    assert_eq!(fs::read(root.join("synced")).expect("read"), b"kept");
    assert_eq!(fs::read(root.join("unsynced")).expect("read"), b"");
    assert_eq!(cut.files_rolled_back, 2, "{cut:?}");
    fs.unmount().expect("unmount");
}

#[test]
fn a_new_file_needs_its_directory_synced() {
    let Some((_dir, mut fs)) = mounted() else {
        return;
    };
    let root = fs.path().to_owned();
    fs::create_dir(root.join("mail")).expect("mkdir");
    write_synced(&root.join("mail/a.eml"), b"letter");
    fs.power_cut().expect("power cut");
    assert!(
        !root.join("mail").exists(),
        "the new folder was never synced"
    );

    fs::create_dir(root.join("mail")).expect("mkdir");
    sync_dir(&root);
    write_synced(&root.join("mail/a.eml"), b"letter");
    fs.power_cut().expect("power cut");
    assert!(root.join("mail").is_dir());
    assert!(
        !root.join("mail/a.eml").exists(),
        "its folder was never synced"
    );

    write_synced(&root.join("mail/a.eml"), b"letter");
    sync_dir(&root.join("mail"));
    fs.power_cut().expect("power cut");
    assert_eq!(fs::read(root.join("mail/a.eml")).expect("read"), b"letter");
}

#[test]
fn a_rename_is_durable_once_its_directory_is_synced() {
    let Some((_dir, mut fs)) = mounted() else {
        return;
    };
    let root = fs.path().to_owned();
    write_synced(&root.join("manifest.json"), b"old");
    sync_dir(&root);
    write_synced(&root.join(".manifest.tmp"), b"new");
    fs::rename(root.join(".manifest.tmp"), root.join("manifest.json")).expect("rename");
    assert_eq!(fs::read(root.join("manifest.json")).expect("read"), b"new");
    fs.power_cut().expect("power cut");
    assert_eq!(fs::read(root.join("manifest.json")).expect("read"), b"old");
    assert!(!root.join(".manifest.tmp").exists());

    write_synced(&root.join(".manifest.tmp"), b"new");
    fs::rename(root.join(".manifest.tmp"), root.join("manifest.json")).expect("rename");
    sync_dir(&root);
    fs.power_cut().expect("power cut");
    assert_eq!(fs::read(root.join("manifest.json")).expect("read"), b"new");
    assert!(!root.join(".manifest.tmp").exists());
}

#[test]
fn positioned_writes_truncation_and_listing_work_as_on_a_disk() {
    let Some((_dir, mut fs)) = mounted() else {
        return;
    };
    let root = fs.path().to_owned();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(root.join("db"))
        .expect("create");
    file.write_all(&[1; 8192]).expect("write");
    file.seek(SeekFrom::Start(4096)).expect("seek");
    file.write_all(&[2; 10]).expect("write in the middle");
    file.sync_data().expect("fdatasync");
    file.set_len(4100).expect("truncate");
    let mut back = Vec::new();
    file.seek(SeekFrom::Start(0)).expect("seek");
    file.read_to_end(&mut back).expect("read");
    assert_eq!(back.len(), 4100);
    assert_eq!(&back[4096..], &[2; 4]);
    drop(file);
    sync_dir(&root);
    let mut names: Vec<String> = fs::read_dir(&root)
        .expect("list")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["db"]);
    fs.power_cut().expect("power cut");
    // The truncation was never synced: the 8 KiB synced before it come back.
    let after = fs::read(root.join("db")).expect("read");
    assert_eq!(after.len(), 8192);
    assert_eq!(&after[4096..4106], &[2; 10]);
    assert_eq!(after[4106], 1);
}
