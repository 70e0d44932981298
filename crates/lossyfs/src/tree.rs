//! The filesystem's contents, apart from FUSE: every file's live and durable bytes, every
//! directory's live and durable names, and what a power cut leaves. The rules are in the
//! crate's documentation; this module is where they are kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::time::SystemTime;

use fuser::{Errno, FileAttr, FileType, INodeNo};

/// Changes to file contents are tracked in pages of this size, so that a sync copies only
/// what changed since the last one.
const PAGE: u64 = 4096;
/// Files larger than this are refused (everything is held in memory).
pub(crate) const MAX_FILE: u64 = 1 << 32;
/// The root directory's inode.
pub(crate) const ROOT: u64 = 1;

/// What a power cut took back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cut {
    /// Files whose contents went back to what was last synced.
    pub files_rolled_back: usize,
    /// Bytes of file contents that differed from the synced copy (changed bytes, and the
    /// difference in length).
    pub bytes_lost: u64,
    /// Directories whose names went back to what was last synced.
    pub directories_rolled_back: usize,
}

/// A regular file: what reads see now, and what the disk holds.
#[derive(Debug, Default)]
struct Content {
    live: Vec<u8>,
    durable: Vec<u8>,
    /// Pages of `live` that may differ from `durable` (by index).
    dirty: BTreeSet<u64>,
}

impl Content {
    fn mark(&mut self, from: u64, to: u64) {
        if to > from {
            self.dirty.extend(from / PAGE..=(to - 1) / PAGE);
        }
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Errno> {
        let end = offset
            .checked_add(data.len() as u64)
            .filter(|end| *end <= MAX_FILE)
            .ok_or(Errno::EFBIG)?;
        let old = self.live.len() as u64;
        if end > old {
            // Bytes between the old end and `offset` become zeros: changed too.
            self.live.resize(end as usize, 0);
            self.mark(old.min(offset), end);
        }
        self.live[offset as usize..end as usize].copy_from_slice(data);
        self.mark(offset, end);
        Ok(())
    }

    fn set_len(&mut self, len: u64) -> Result<(), Errno> {
        if len > MAX_FILE {
            return Err(Errno::EFBIG);
        }
        let old = self.live.len() as u64;
        self.live.resize(len as usize, 0);
        // Both ways: what was cut off and later regrown must be zeros in the durable copy.
        self.mark(old.min(len), old.max(len));
        Ok(())
    }

    fn sync(&mut self) {
        let len = self.live.len();
        self.durable.resize(len, 0);
        for page in std::mem::take(&mut self.dirty) {
            let start = (page * PAGE) as usize;
            if start >= len {
                continue;
            }
            let end = (start + PAGE as usize).min(len);
            self.durable[start..end].copy_from_slice(&self.live[start..end]);
        }
    }

    /// Back to the synced copy; returns how many bytes differed (changed bytes, and the
    /// difference in length).
    fn cut(&mut self) -> u64 {
        let mut lost = self.live.len().abs_diff(self.durable.len()) as u64;
        let common = self.live.len().min(self.durable.len());
        for page in &self.dirty {
            let start = (page * PAGE) as usize;
            if start >= common {
                continue;
            }
            let end = (start + PAGE as usize).min(common);
            lost += self.live[start..end]
                .iter()
                .zip(&self.durable[start..end])
                .filter(|(a, b)| a != b)
                .count() as u64;
        }
        self.live = self.durable.clone();
        self.dirty.clear();
        lost
    }
}

/// A directory: its names now, and the names the disk holds.
#[derive(Debug, Default)]
struct Entries {
    live: BTreeMap<OsString, u64>,
    durable: BTreeMap<OsString, u64>,
    /// The live parent (for `..`).
    parent: u64,
}

#[derive(Debug)]
enum Kind {
    File(Content),
    Dir(Entries),
}

/// Mode, owner and times: one copy, not rolled back at a cut (nothing here depends on them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    pub perm: u16,
    pub uid: u32,
    pub gid: u32,
    pub atime: SystemTime,
    pub mtime: SystemTime,
    pub ctime: SystemTime,
}

impl Meta {
    pub(crate) fn new(perm: u16, uid: u32, gid: u32) -> Meta {
        let now = SystemTime::now();
        Meta {
            perm: perm & 0o7777,
            uid,
            gid,
            atime: now,
            mtime: now,
            ctime: now,
        }
    }
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    meta: Meta,
    /// Live names of this node.
    links: u32,
    /// Durable names of this node: while there is one, a cut can bring the node back.
    durable_links: u32,
    /// Open file handles (an unlinked file lives on while it is open).
    opens: u32,
}

/// Every node, by inode number.
#[derive(Debug)]
pub(crate) struct Tree {
    nodes: HashMap<u64, Node>,
    next: u64,
}

impl Tree {
    pub(crate) fn new(uid: u32, gid: u32) -> Tree {
        let root = Node {
            kind: Kind::Dir(Entries {
                parent: ROOT,
                ..Entries::default()
            }),
            meta: Meta::new(0o755, uid, gid),
            links: 1,
            durable_links: 1,
            opens: 0,
        };
        Tree {
            nodes: HashMap::from([(ROOT, root)]),
            next: ROOT + 1,
        }
    }

    fn node(&self, ino: u64) -> Result<&Node, Errno> {
        self.nodes.get(&ino).ok_or(Errno::ENOENT)
    }

    fn node_mut(&mut self, ino: u64) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    fn entries(&self, ino: u64) -> Result<&Entries, Errno> {
        match &self.node(ino)?.kind {
            Kind::Dir(entries) => Ok(entries),
            Kind::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn entries_mut(&mut self, ino: u64) -> Result<&mut Entries, Errno> {
        match &mut self.node_mut(ino)?.kind {
            Kind::Dir(entries) => Ok(entries),
            Kind::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn content(&self, ino: u64) -> Result<&Content, Errno> {
        match &self.node(ino)?.kind {
            Kind::File(content) => Ok(content),
            Kind::Dir(_) => Err(Errno::EISDIR),
        }
    }

    fn content_mut(&mut self, ino: u64) -> Result<&mut Content, Errno> {
        match &mut self.node_mut(ino)?.kind {
            Kind::File(content) => Ok(content),
            Kind::Dir(_) => Err(Errno::EISDIR),
        }
    }

    pub(crate) fn is_dir(&self, ino: u64) -> Result<bool, Errno> {
        Ok(matches!(self.node(ino)?.kind, Kind::Dir(_)))
    }

    pub(crate) fn attr(&self, ino: u64) -> Result<FileAttr, Errno> {
        let node = self.node(ino)?;
        let (kind, size, nlink) = match &node.kind {
            Kind::File(content) => (FileType::RegularFile, content.live.len() as u64, node.links),
            Kind::Dir(_) => (FileType::Directory, 0, 2),
        };
        Ok(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: node.meta.atime,
            mtime: node.meta.mtime,
            ctime: node.meta.ctime,
            crtime: node.meta.ctime,
            kind,
            perm: node.meta.perm,
            nlink,
            uid: node.meta.uid,
            gid: node.meta.gid,
            rdev: 0,
            blksize: PAGE as u32,
            flags: 0,
        })
    }

    pub(crate) fn lookup(&self, parent: u64, name: &OsStr) -> Result<u64, Errno> {
        self.entries(parent)?
            .live
            .get(name)
            .copied()
            .ok_or(Errno::ENOENT)
    }

    /// A new file or directory named `name` in `parent` (a live name only).
    pub(crate) fn make(
        &mut self,
        parent: u64,
        name: &OsStr,
        dir: bool,
        meta: Meta,
    ) -> Result<u64, Errno> {
        if name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        if self.entries(parent)?.live.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.next;
        self.next += 1;
        let kind = if dir {
            Kind::Dir(Entries {
                parent,
                ..Entries::default()
            })
        } else {
            Kind::File(Content::default())
        };
        self.nodes.insert(
            ino,
            Node {
                kind,
                meta,
                links: 1,
                durable_links: 0,
                opens: 0,
            },
        );
        self.entries_mut(parent)?.live.insert(name.to_owned(), ino);
        self.touch(parent);
        Ok(ino)
    }

    fn touch(&mut self, ino: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            let now = SystemTime::now();
            node.meta.mtime = now;
            node.meta.ctime = now;
        }
    }

    /// Removes a live name (`unlink` for files, `rmdir` for empty directories).
    pub(crate) fn remove(&mut self, parent: u64, name: &OsStr, dir: bool) -> Result<(), Errno> {
        let ino = self.lookup(parent, name)?;
        match (&self.node(ino)?.kind, dir) {
            (Kind::Dir(_), false) => return Err(Errno::EISDIR),
            (Kind::File(_), true) => return Err(Errno::ENOTDIR),
            (Kind::Dir(entries), true) if !entries.live.is_empty() => {
                return Err(Errno::ENOTEMPTY);
            }
            _ => {}
        }
        self.entries_mut(parent)?.live.remove(name);
        self.touch(parent);
        self.unlinked(ino);
        Ok(())
    }

    /// One live name fewer for `ino`.
    fn unlinked(&mut self, ino: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.links = node.links.saturating_sub(1);
            node.meta.ctime = SystemTime::now();
        }
        self.maybe_free(ino);
    }

    /// Drops a node nothing can reach any more: no live name, no durable name, not open.
    fn maybe_free(&mut self, ino: u64) {
        let free = ino != ROOT
            && self
                .nodes
                .get(&ino)
                .is_some_and(|n| n.links == 0 && n.durable_links == 0 && n.opens == 0);
        if !free {
            return;
        }
        if let Some(Node {
            kind: Kind::Dir(entries),
            ..
        }) = self.nodes.remove(&ino)
        {
            // Its durable names held their targets for a cut that can no longer reach them.
            for child in entries.durable.into_values() {
                if let Some(node) = self.nodes.get_mut(&child) {
                    node.durable_links = node.durable_links.saturating_sub(1);
                }
                self.maybe_free(child);
            }
        }
    }

    /// Whether `ino` is `ancestor` or lies below it (by live parents).
    fn within(&self, mut ino: u64, ancestor: u64) -> bool {
        loop {
            if ino == ancestor {
                return true;
            }
            match self.entries(ino) {
                Ok(entries) if ino != ROOT => ino = entries.parent,
                _ => return false,
            }
        }
    }

    pub(crate) fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        new_parent: u64,
        new_name: &OsStr,
        no_replace: bool,
    ) -> Result<(), Errno> {
        if new_name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        let ino = self.lookup(parent, name)?;
        self.entries(new_parent)?;
        let moving_dir = self.is_dir(ino)?;
        if moving_dir && self.within(new_parent, ino) {
            return Err(Errno::EINVAL);
        }
        if let Some(&target) = self.entries(new_parent)?.live.get(new_name) {
            if no_replace {
                return Err(Errno::EEXIST);
            }
            if target == ino {
                return Ok(());
            }
            match (&self.node(target)?.kind, moving_dir) {
                (Kind::Dir(_), false) => return Err(Errno::EISDIR),
                (Kind::File(_), true) => return Err(Errno::ENOTDIR),
                (Kind::Dir(entries), true) if !entries.live.is_empty() => {
                    return Err(Errno::ENOTEMPTY);
                }
                _ => {}
            }
            self.entries_mut(new_parent)?.live.remove(new_name);
            self.unlinked(target);
        }
        self.entries_mut(parent)?.live.remove(name);
        self.entries_mut(new_parent)?
            .live
            .insert(new_name.to_owned(), ino);
        if moving_dir {
            self.entries_mut(ino)?.parent = new_parent;
        }
        self.touch(parent);
        self.touch(new_parent);
        Ok(())
    }

    pub(crate) fn read(&self, ino: u64, offset: u64, size: u32) -> Result<&[u8], Errno> {
        let live = &self.content(ino)?.live;
        let start = offset.min(live.len() as u64) as usize;
        let end = offset
            .saturating_add(u64::from(size))
            .min(live.len() as u64) as usize;
        Ok(&live[start..end])
    }

    pub(crate) fn write(&mut self, ino: u64, offset: u64, data: &[u8]) -> Result<(), Errno> {
        self.content_mut(ino)?.write(offset, data)?;
        self.touch(ino);
        Ok(())
    }

    pub(crate) fn set_len(&mut self, ino: u64, len: u64) -> Result<(), Errno> {
        self.content_mut(ino)?.set_len(len)?;
        self.touch(ino);
        Ok(())
    }

    /// Extends a file to at least `len` bytes (`fallocate` without flags).
    pub(crate) fn allocate(&mut self, ino: u64, len: u64) -> Result<(), Errno> {
        if len > self.content(ino)?.live.len() as u64 {
            self.set_len(ino, len)?;
        }
        Ok(())
    }

    pub(crate) fn meta_mut(&mut self, ino: u64) -> Result<&mut Meta, Errno> {
        Ok(&mut self.node_mut(ino)?.meta)
    }

    pub(crate) fn opened(&mut self, ino: u64) -> Result<(), Errno> {
        self.node_mut(ino)?.opens += 1;
        Ok(())
    }

    pub(crate) fn released(&mut self, ino: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.opens = node.opens.saturating_sub(1);
        }
        self.maybe_free(ino);
    }

    /// `fsync`/`fdatasync` on a file makes its contents durable; on a directory (`fsyncdir`),
    /// its names: every name created, renamed in or removed since the last time.
    pub(crate) fn sync(&mut self, ino: u64) -> Result<(), Errno> {
        let node = self.node_mut(ino)?;
        let (gained, lost) = match &mut node.kind {
            Kind::File(content) => {
                content.sync();
                return Ok(());
            }
            Kind::Dir(entries) => {
                let lost: Vec<u64> = entries
                    .durable
                    .iter()
                    .filter(|(name, ino)| entries.live.get(*name) != Some(ino))
                    .map(|(_, ino)| *ino)
                    .collect();
                let gained: Vec<u64> = entries
                    .live
                    .iter()
                    .filter(|(name, ino)| entries.durable.get(*name) != Some(ino))
                    .map(|(_, ino)| *ino)
                    .collect();
                entries.durable = entries.live.clone();
                (gained, lost)
            }
        };
        for ino in gained {
            if let Some(node) = self.nodes.get_mut(&ino) {
                node.durable_links += 1;
            }
        }
        for ino in lost {
            if let Some(node) = self.nodes.get_mut(&ino) {
                node.durable_links = node.durable_links.saturating_sub(1);
            }
            self.maybe_free(ino);
        }
        Ok(())
    }

    /// A directory's live entries, `.` and `..` first.
    pub(crate) fn list(&self, ino: u64) -> Result<Vec<(u64, FileType, OsString)>, Errno> {
        let entries = self.entries(ino)?;
        let mut out = vec![
            (ino, FileType::Directory, OsString::from(".")),
            (entries.parent, FileType::Directory, OsString::from("..")),
        ];
        for (name, child) in &entries.live {
            let kind = match self.nodes.get(child).map(|n| &n.kind) {
                Some(Kind::Dir(_)) => FileType::Directory,
                _ => FileType::RegularFile,
            };
            out.push((*child, kind, name.clone()));
        }
        Ok(out)
    }

    /// The disk after the power came back: every live copy replaced by its durable copy, and
    /// whatever no durable name reaches from the root gone.
    pub(crate) fn power_cut(&mut self) -> Cut {
        let mut cut = Cut::default();
        // What the durable names reach from the root, and how many durable names each has.
        let mut names: HashMap<u64, u32> = HashMap::from([(ROOT, 1)]);
        let mut parents: HashMap<u64, u64> = HashMap::from([(ROOT, ROOT)]);
        let mut queue = vec![ROOT];
        while let Some(dir) = queue.pop() {
            let Some(Node {
                kind: Kind::Dir(entries),
                ..
            }) = self.nodes.get(&dir)
            else {
                continue;
            };
            for child in entries.durable.values() {
                let count = names.entry(*child).or_insert(0);
                *count += 1;
                if *count == 1
                    && matches!(self.nodes.get(child).map(|n| &n.kind), Some(Kind::Dir(_)))
                {
                    parents.insert(*child, dir);
                    queue.push(*child);
                }
            }
        }
        self.nodes.retain(|ino, _| names.contains_key(ino));
        for (ino, node) in &mut self.nodes {
            let count = names.get(ino).copied().unwrap_or(0);
            node.links = count;
            node.durable_links = count;
            node.opens = 0;
            match &mut node.kind {
                Kind::File(content) => {
                    let lost = content.cut();
                    if lost > 0 {
                        cut.files_rolled_back += 1;
                        cut.bytes_lost += lost;
                    }
                }
                Kind::Dir(entries) => {
                    if entries.live != entries.durable {
                        cut.directories_rolled_back += 1;
                        entries.live = entries.durable.clone();
                    }
                    entries.parent = parents.get(ino).copied().unwrap_or(ROOT);
                }
            }
        }
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Tree {
        Tree::new(0, 0)
    }

    fn file(t: &mut Tree, parent: u64, name: &str) -> u64 {
        t.make(parent, OsStr::new(name), false, Meta::new(0o644, 0, 0))
            .expect("make a file")
    }

    fn contents(t: &Tree, ino: u64) -> Vec<u8> {
        t.read(ino, 0, u32::MAX).expect("read").to_vec()
    }

    #[test]
    fn unsynced_writes_are_lost_and_synced_ones_kept() {
        let mut t = tree();
        let ino = file(&mut t, ROOT, "a");
        t.sync(ROOT).expect("sync the name");
        t.write(ino, 0, b"synced").expect("write");
        t.sync(ino).expect("sync");
        t.write(ino, 6, b" and not").expect("write");
        t.write(ino, 0, b"S").expect("write");
        assert_eq!(contents(&t, ino), b"Synced and not");
        let cut = t.power_cut();
        assert_eq!(t.lookup(ROOT, OsStr::new("a")), Ok(ino));
        assert_eq!(contents(&t, ino), b"synced");
        assert_eq!(cut.files_rolled_back, 1);
        assert!(cut.bytes_lost > 0);
    }

    #[test]
    fn a_truncation_and_regrowth_is_zeros_once_synced() {
        let mut t = tree();
        let ino = file(&mut t, ROOT, "a");
        t.sync(ROOT).expect("sync the name");
        t.write(ino, 0, &[7; 10_000]).expect("write");
        t.sync(ino).expect("sync");
        t.set_len(ino, 10).expect("truncate");
        t.set_len(ino, 9_000).expect("extend");
        t.write(ino, 12_000, b"x").expect("write past the end");
        t.sync(ino).expect("sync");
        t.power_cut();
        let after = contents(&t, ino);
        assert_eq!(after.len(), 12_001);
        assert_eq!(&after[..10], &[7; 10]);
        assert!(after[10..12_000].iter().all(|b| *b == 0));
        assert_eq!(after[12_000], b'x');
    }

    #[test]
    fn a_new_name_needs_its_directory_synced() {
        let mut t = tree();
        let ino = file(&mut t, ROOT, "new");
        t.write(ino, 0, b"data").expect("write");
        // The file's own fsync keeps its data, not its name.
        t.sync(ino).expect("sync");
        t.power_cut();
        assert_eq!(t.lookup(ROOT, OsStr::new("new")), Err(Errno::ENOENT));
        assert!(t.attr(ino).is_err(), "nothing reaches it, so it is gone");

        let ino = file(&mut t, ROOT, "new");
        t.write(ino, 0, b"data").expect("write");
        t.sync(ino).expect("sync");
        t.sync(ROOT).expect("sync the directory");
        t.power_cut();
        let found = t
            .lookup(ROOT, OsStr::new("new"))
            .expect("the name survived");
        assert_eq!(contents(&t, found), b"data");
    }

    #[test]
    fn a_rename_is_durable_once_its_directory_is_synced() {
        let mut t = tree();
        let old = file(&mut t, ROOT, "letter");
        t.write(old, 0, b"old").expect("write");
        t.sync(old).expect("sync");
        t.sync(ROOT).expect("sync the directory");
        // Write whole under a temporary name, sync it, rename it over the old one.
        let new = file(&mut t, ROOT, ".letter.tmp");
        t.write(new, 0, b"new").expect("write");
        t.sync(new).expect("sync");
        t.rename(
            ROOT,
            OsStr::new(".letter.tmp"),
            ROOT,
            OsStr::new("letter"),
            false,
        )
        .expect("rename");
        assert_eq!(
            contents(&t, t.lookup(ROOT, OsStr::new("letter")).expect("letter")),
            b"new"
        );
        t.power_cut();
        // Without the directory's sync the rename never happened.
        let found = t.lookup(ROOT, OsStr::new("letter")).expect("letter");
        assert_eq!(contents(&t, found), b"old");
        assert_eq!(
            t.lookup(ROOT, OsStr::new(".letter.tmp")),
            Err(Errno::ENOENT)
        );

        let new = file(&mut t, ROOT, ".letter.tmp");
        t.write(new, 0, b"new").expect("write");
        t.sync(new).expect("sync");
        t.rename(
            ROOT,
            OsStr::new(".letter.tmp"),
            ROOT,
            OsStr::new("letter"),
            false,
        )
        .expect("rename");
        t.sync(ROOT).expect("sync the directory");
        t.power_cut();
        let found = t.lookup(ROOT, OsStr::new("letter")).expect("letter");
        assert_eq!(contents(&t, found), b"new");
        assert_eq!(
            t.lookup(ROOT, OsStr::new(".letter.tmp")),
            Err(Errno::ENOENT)
        );
        assert!(t.attr(old).is_err(), "the replaced file is gone");
    }

    #[test]
    fn a_removal_is_undone_unless_its_directory_is_synced() {
        let mut t = tree();
        let ino = file(&mut t, ROOT, "kept");
        t.write(ino, 0, b"x").expect("write");
        t.sync(ino).expect("sync");
        t.sync(ROOT).expect("sync the directory");
        t.remove(ROOT, OsStr::new("kept"), false).expect("unlink");
        assert_eq!(t.lookup(ROOT, OsStr::new("kept")), Err(Errno::ENOENT));
        t.power_cut();
        let back = t
            .lookup(ROOT, OsStr::new("kept"))
            .expect("back after the cut");
        assert_eq!(contents(&t, back), b"x");
        t.remove(ROOT, OsStr::new("kept"), false).expect("unlink");
        t.sync(ROOT).expect("sync the directory");
        t.power_cut();
        assert_eq!(t.lookup(ROOT, OsStr::new("kept")), Err(Errno::ENOENT));
    }

    #[test]
    fn a_new_directory_needs_its_parent_synced_and_itself_for_its_names() {
        let mut t = tree();
        let dir = t
            .make(ROOT, OsStr::new("mail"), true, Meta::new(0o755, 0, 0))
            .expect("mkdir");
        let ino = file(&mut t, dir, "a.eml");
        t.sync(ino).expect("sync the file");
        t.sync(dir).expect("sync the new directory");
        t.power_cut();
        assert_eq!(t.lookup(ROOT, OsStr::new("mail")), Err(Errno::ENOENT));

        let dir = t
            .make(ROOT, OsStr::new("mail"), true, Meta::new(0o755, 0, 0))
            .expect("mkdir");
        t.sync(ROOT).expect("sync the root");
        let ino = file(&mut t, dir, "a.eml");
        t.sync(ino).expect("sync the file");
        t.power_cut();
        let dir = t
            .lookup(ROOT, OsStr::new("mail"))
            .expect("the directory survived");
        assert_eq!(t.lookup(dir, OsStr::new("a.eml")), Err(Errno::ENOENT));
    }

    #[test]
    fn directories_refuse_what_a_filesystem_refuses() {
        let mut t = tree();
        let dir = t
            .make(ROOT, OsStr::new("d"), true, Meta::new(0o755, 0, 0))
            .expect("mkdir");
        file(&mut t, dir, "f");
        assert_eq!(t.remove(ROOT, OsStr::new("d"), true), Err(Errno::ENOTEMPTY));
        assert_eq!(t.remove(ROOT, OsStr::new("d"), false), Err(Errno::EISDIR));
        assert_eq!(t.remove(dir, OsStr::new("f"), true), Err(Errno::ENOTDIR));
        assert_eq!(
            t.rename(ROOT, OsStr::new("d"), dir, OsStr::new("inside"), false),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            t.make(dir, OsStr::new("f"), false, Meta::new(0o644, 0, 0)),
            Err(Errno::EEXIST)
        );
        assert_eq!(t.write(dir, 0, b"x"), Err(Errno::EISDIR));
        assert_eq!(t.write(2 + dir, 0, b"x"), Err(Errno::ENOENT));
        assert_eq!(
            t.set_len(t.lookup(dir, OsStr::new("f")).expect("f"), MAX_FILE + 1),
            Err(Errno::EFBIG)
        );
    }

    #[test]
    fn an_open_unlinked_file_lives_until_released() {
        let mut t = tree();
        let ino = file(&mut t, ROOT, "tmp");
        t.opened(ino).expect("open");
        t.remove(ROOT, OsStr::new("tmp"), false).expect("unlink");
        t.write(ino, 0, b"still here")
            .expect("write to the open file");
        assert_eq!(contents(&t, ino), b"still here");
        t.released(ino);
        assert!(t.attr(ino).is_err(), "freed once closed");
    }
}
