//! The FUSE side: each kernel request is one call on the shared [`Tree`], under its lock.
//! File locks (`fcntl`) are left to the kernel (the filesystem does not ask for them), and the
//! page cache is kept across opens (`FOPEN_KEEP_CACHE`): every change goes through this one
//! kernel mount, so the cache is never stale, and SQLite's shared-memory file (`-shm`, which
//! it maps with `mmap`) stays one set of pages for every process that opens it.

use std::ffi::OsStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileHandle, Filesystem, FopenFlags, Generation, INodeNo, LockOwner, OpenFlags,
    RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

use crate::tree::{MAX_FILE, Meta, Tree};

/// How long the kernel may keep names and attributes: every change comes through the kernel
/// itself, and a power cut remounts, so there is nothing to go stale.
const TTL: Duration = Duration::from_secs(1);

pub(crate) struct Fs {
    pub(crate) tree: Arc<Mutex<Tree>>,
}

impl Fs {
    /// The tree, or EIO if a thread panicked while holding it.
    fn tree(&self) -> Result<MutexGuard<'_, Tree>, Errno> {
        self.tree.lock().map_err(|_| Errno::EIO)
    }

    fn entry(&self, reply: ReplyEntry, found: Result<u64, Errno>) {
        match found.and_then(|ino| self.tree()?.attr(ino)) {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn empty(reply: ReplyEmpty, done: Result<(), Errno>) {
        match done {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }
}

fn time(t: TimeOrNow) -> SystemTime {
    match t {
        TimeOrNow::SpecificTime(t) => t,
        TimeOrNow::Now => SystemTime::now(),
    }
}

/// Permission bits from a `mode` and `umask`.
fn perm(mode: u32, umask: u32) -> u16 {
    (mode & !umask & 0o7777) as u16
}

impl Filesystem for Fs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let found = self.tree().and_then(|t| t.lookup(parent.0, name));
        self.entry(reply, found);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.tree().and_then(|t| t.attr(ino.0)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let done = self.tree().and_then(|mut t| {
            if let Some(size) = size {
                t.set_len(ino.0, size)?;
            }
            let meta = t.meta_mut(ino.0)?;
            if let Some(mode) = mode {
                meta.perm = perm(mode, 0);
            }
            if let Some(uid) = uid {
                meta.uid = uid;
            }
            if let Some(gid) = gid {
                meta.gid = gid;
            }
            if let Some(atime) = atime {
                meta.atime = time(atime);
            }
            if let Some(mtime) = mtime {
                meta.mtime = time(mtime);
            }
            meta.ctime = SystemTime::now();
            t.attr(ino.0)
        });
        match done {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        // Regular files only: nothing here needs devices, pipes or sockets.
        if mode & libc::S_IFMT != libc::S_IFREG {
            reply.error(Errno::EPERM);
            return;
        }
        let made = self.tree().and_then(|mut t| {
            t.make(
                parent.0,
                name,
                false,
                Meta::new(perm(mode, umask), req.uid(), req.gid()),
            )
        });
        self.entry(reply, made);
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let made = self.tree().and_then(|mut t| {
            t.make(
                parent.0,
                name,
                true,
                Meta::new(perm(mode, umask), req.uid(), req.gid()),
            )
        });
        self.entry(reply, made);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        Self::empty(
            reply,
            self.tree()
                .and_then(|mut t| t.remove(parent.0, name, false)),
        );
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        Self::empty(
            reply,
            self.tree().and_then(|mut t| t.remove(parent.0, name, true)),
        );
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if !(flags - RenameFlags::RENAME_NOREPLACE).is_empty() {
            reply.error(Errno::EINVAL);
            return;
        }
        let no_replace = flags.contains(RenameFlags::RENAME_NOREPLACE);
        Self::empty(
            reply,
            self.tree()
                .and_then(|mut t| t.rename(parent.0, name, newparent.0, newname, no_replace)),
        );
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let opened = self.tree().and_then(|mut t| {
            if t.is_dir(ino.0)? {
                return Err(Errno::EISDIR);
            }
            t.opened(ino.0)
        });
        match opened {
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::FOPEN_KEEP_CACHE),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let made = self.tree().and_then(|mut t| {
            let ino = match t.lookup(parent.0, name) {
                // Opening an existing file with O_CREAT (and without O_EXCL) opens it.
                Ok(ino) if flags & libc::O_EXCL == 0 => {
                    if t.is_dir(ino)? {
                        return Err(Errno::EISDIR);
                    }
                    if flags & libc::O_TRUNC != 0 {
                        t.set_len(ino, 0)?;
                    }
                    ino
                }
                Ok(_) => return Err(Errno::EEXIST),
                Err(_) => t.make(
                    parent.0,
                    name,
                    false,
                    Meta::new(perm(mode, umask), req.uid(), req.gid()),
                )?,
            };
            t.opened(ino)?;
            t.attr(ino)
        });
        match made {
            Ok(attr) => reply.created(
                &TTL,
                &attr,
                Generation(0),
                FileHandle(0),
                FopenFlags::FOPEN_KEEP_CACHE,
            ),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.tree() {
            Ok(t) => match t.read(ino.0, offset, size) {
                Ok(data) => reply.data(data),
                Err(e) => reply.error(e),
            },
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.tree().and_then(|mut t| t.write(ino.0, offset, data)) {
            Ok(()) => reply.written(data.len() as u32),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // Closing makes nothing durable.
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        if let Ok(mut t) = self.tree() {
            t.released(ino.0);
        }
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        Self::empty(reply, self.tree().and_then(|mut t| t.sync(ino.0)));
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.tree().and_then(|t| t.is_dir(ino.0)) {
            Ok(true) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Ok(false) => reply.error(Errno::ENOTDIR),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let listed = match self.tree().and_then(|t| t.list(ino.0)) {
            Ok(listed) => listed,
            Err(e) => {
                reply.error(e);
                return;
            }
        };
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        for (i, (child, kind, name)) in listed.into_iter().enumerate().skip(skip) {
            // The offset is where the next call starts.
            if reply.add(INodeNo(child), i as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        Self::empty(reply, self.tree().and_then(|mut t| t.sync(ino.0)));
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // Room enough for anything a test writes (it is all memory).
        let blocks = MAX_FILE / 4096;
        reply.statfs(blocks, blocks, blocks, 1 << 20, 1 << 20, 4096, 255, 4096);
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        // Permissions are checked by the kernel (`default_permissions`).
        reply.ok();
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        // Only plain allocation (make the file at least this long); no holes, no collapsing.
        if mode != 0 {
            reply.error(Errno::EOPNOTSUPP);
            return;
        }
        let done = offset
            .checked_add(length)
            .ok_or(Errno::EFBIG)
            .and_then(|end| self.tree()?.allocate(ino.0, end));
        Self::empty(reply, done);
    }
}
