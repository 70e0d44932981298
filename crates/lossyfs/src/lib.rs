//! An in-memory filesystem, mounted with FUSE, that keeps writes in memory until they are
//! synced and drops the unsynced ones at a simulated power cut: for tests that kill a program,
//! cut the power under it, and check that what it acknowledged is still there.
//!
//! # The rules
//!
//! Every regular file has a *live* copy (what reads see) and a *durable* copy (what the disk
//! would hold after a power cut); every directory has *live* names and *durable* names.
//!
//! 1. `write`, truncation (`ftruncate`, `O_TRUNC`) and `fallocate` change only the live copy.
//!    Closing a file makes nothing durable.
//! 2. `fsync` or `fdatasync` on a file makes its whole live contents, and its length, durable.
//!    It does not make the file's *name* durable.
//! 3. Creating (`creat`, `mknod`, `mkdir`), renaming and removing (`unlink`, `rmdir`) change
//!    only the directories' live names. `fsync` on a directory makes all of its live names
//!    durable at once: every name created, renamed in or out, or removed since the last time.
//! 4. So a new file survives a cut only once both it (its contents) and its directory (its
//!    name) were synced; a rename only once its directory was synced (the old name and
//!    contents come back otherwise); a new directory only once its parent was synced, and the
//!    names in it only once it was. A rename between two directories needs both synced: with
//!    only the target synced, the file has both names after a cut.
//! 5. Mode, owner and times have one copy, kept at a cut.
//! 6. [`LossyFs::power_cut`] unmounts (the kernel's page cache goes, as at a reboot), replaces
//!    every live copy by its durable copy, drops whatever no durable name reaches from the
//!    root, and mounts again at the same place.
//!
//! These rules are stricter than ext4's (`data=ordered`), never more lenient: there an
//! `fsync` of a new file also commits its directory entry (one journal commit carries both),
//! and unsynced data may reach the disk at any time, which here it never does. A program that
//! keeps what it acknowledges here keeps it on ext4; one that relies on ext4's extras is
//! caught. Writes in flight at the cut are dropped whole rather than torn.
//!
//! File locks (`fcntl`) are the kernel's; shared `mmap` works (the page cache is kept across
//! opens, so SQLite's `-shm` file is one set of pages for all its processes, and like any
//! file it is not synced, so a cut empties it). Only regular files and directories exist: no
//! links, devices or extended attributes.

mod fuse;
mod tree;

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fuser::{BackgroundSession, Config, MountOption};

pub use tree::Cut;
use tree::Tree;

/// A mounted lossy filesystem. Dropping it unmounts it (and its contents are gone).
pub struct LossyFs {
    tree: Arc<Mutex<Tree>>,
    mountpoint: PathBuf,
    session: Option<BackgroundSession>,
}

impl std::fmt::Debug for LossyFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LossyFs")
            .field("mountpoint", &self.mountpoint)
            .finish_non_exhaustive()
    }
}

/// Why this process cannot mount a FUSE filesystem, if it cannot: the kernel's device is
/// missing, or this is not root (who mounts with mount(2) directly, needing nothing else).
pub fn unavailable() -> Option<String> {
    if !Path::new("/dev/fuse").exists() {
        return Some("/dev/fuse does not exist".into());
    }
    // /proc/self belongs to the process's effective user.
    match std::fs::metadata("/proc/self") {
        Ok(me) if me.uid() == 0 => None,
        Ok(me) => Some(format!("this runs as uid {}, not root", me.uid())),
        Err(e) => Some(format!("cannot tell who this process runs as: {e}")),
    }
}

fn poisoned<T>(_: T) -> io::Error {
    io::Error::other("the filesystem's state was poisoned by a panic")
}

fn spawn(tree: &Arc<Mutex<Tree>>, mountpoint: &Path) -> io::Result<BackgroundSession> {
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::FSName("lossyfs".into()),
        MountOption::Subtype("lossyfs".into()),
        // The kernel checks permissions against the modes, as on a disk.
        MountOption::DefaultPermissions,
    ];
    // One request's lock is short; a second thread lets a read go on beside an fsync.
    config.n_threads = Some(2);
    fuser::spawn_mount(fuse::Fs { tree: tree.clone() }, mountpoint, &config)
}

impl LossyFs {
    /// Mounts an empty filesystem on `mountpoint` (an existing, empty directory).
    pub fn mount(mountpoint: &Path) -> io::Result<LossyFs> {
        let owner = std::fs::metadata(mountpoint)?;
        let tree = Arc::new(Mutex::new(Tree::new(owner.uid(), owner.gid())));
        let session = spawn(&tree, mountpoint)?;
        Ok(LossyFs {
            tree,
            mountpoint: mountpoint.to_owned(),
            session: Some(session),
        })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// Cuts the power: unmounts (nothing may have a file open on it), keeps only what was
    /// durable, and mounts that again at the same place. Returns what was lost.
    pub fn power_cut(&mut self) -> io::Result<Cut> {
        if let Some(session) = self.session.take() {
            session.umount_and_join()?;
        }
        let cut = self.tree.lock().map_err(poisoned)?.power_cut();
        self.session = Some(spawn(&self.tree, &self.mountpoint)?);
        Ok(cut)
    }

    /// Unmounts, reporting a failure (dropping unmounts too, quietly).
    pub fn unmount(mut self) -> io::Result<()> {
        match self.session.take() {
            Some(session) => session.umount_and_join(),
            None => Ok(()),
        }
    }
}

impl Drop for LossyFs {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
    }
}
