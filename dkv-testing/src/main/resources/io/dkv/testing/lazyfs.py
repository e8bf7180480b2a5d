#!/usr/bin/python3
"""A FUSE filesystem that loses what was not synced, as a power loss does (driven by io.dkv.testing.LazyFs).

    lazyfs.py BACKING CACHE MOUNTPOINT [--no-fsync | --journaled-names]

BACKING holds the durable state: what a disk would hold after a power loss. CACHE is the page cache: every
operation passes through to it, so the mount shows the latest state at once. Only a sync moves state to
BACKING:

- fsync/fdatasync of a file copies the bytes written to it since its last sync, and its size, to the file's
  durable inode (BACKING/.lazyfs/inodes/<id>, a hard link of the file's durable names) and syncs that;
- fsync of a directory makes its durable entries (creates, renames, links, unlinks, mkdir, rmdir) those of
  the cache, then syncs it. A file created and never synced gets an empty durable inode: its name survives a
  cut, its data does not.

On start CACHE is rebuilt from BACKING; inodes without a durable name are dropped (as fsck would).
Commands on stdin, one per line, each answered on stdout: "cut" (from now on every operation fails with EIO
and nothing more reaches BACKING: the power is gone), answered "cut N": N files had writes not yet synced. With --no-fsync every sync is a no-op, so nothing
written after the mount becomes durable: the control that a test can see a missing fsync. With
--journaled-names any sync first makes every earlier directory change durable, as the metadata journals of ext4
and XFS do in practice (POSIX does not promise it; etcd 3.4 relies on it).
"""
import errno
import os
import shutil
import stat
import sys
import threading

from fusepy import FUSE, FuseOSError, Operations

META = ".lazyfs"


class LazyFs(Operations):
    use_ns = True

    def __init__(self, backing, cache, no_fsync, journaled_names):
        self.backing = backing
        self.cache = cache
        self.no_fsync = no_fsync
        self.journaled_names = journaled_names
        self.mutex = threading.RLock()
        self.cut = False
        self.ids = {}  # cache inode -> durable inode id
        self.dirty = {}  # cache inode -> first offset written (or truncated to) since its last sync
        self.dirs = {}  # cache inode of a directory -> its durable path
        self.inos = {}  # open file handle (the cache's fd) -> cache inode
        self.next_id = 0
        self.load()

    # ---- state: durable <-> cache

    def inode_path(self, i):
        return os.path.join(self.backing, META, "inodes", str(i))

    def load(self):
        """Drops inodes with no durable name, rebuilds the cache from the durable tree."""
        shutil.rmtree(os.path.join(self.backing, META), ignore_errors=True)
        os.makedirs(os.path.join(self.backing, META, "inodes"))
        shutil.rmtree(self.cache, ignore_errors=True)
        os.makedirs(self.cache)
        by_backing_ino = {}  # durable inode number -> (id, cache path): hard links stay links
        self.dirs[os.stat(self.cache).st_ino] = self.backing
        for root, dirnames, files in os.walk(self.backing):
            rel = os.path.relpath(root, self.backing)
            if rel == META or rel.startswith(META + os.sep):
                continue
            if rel == ".":
                dirnames[:] = [d for d in dirnames if d != META]
            for d in dirnames:
                c = os.path.normpath(os.path.join(self.cache, rel, d))
                os.mkdir(c)
                self.dirs[os.stat(c).st_ino] = os.path.join(root, d)
            for f in files:
                b = os.path.join(root, f)
                c = os.path.normpath(os.path.join(self.cache, rel, f))
                st = os.lstat(b)
                if not stat.S_ISREG(st.st_mode):
                    continue
                if st.st_ino in by_backing_ino:
                    os.link(by_backing_ino[st.st_ino][1], c)
                    continue
                shutil.copyfile(b, c)
                i = self.new_id()
                os.link(b, self.inode_path(i))
                by_backing_ino[st.st_ino] = (i, c)
                self.ids[os.stat(c).st_ino] = i
        os.sync()

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def durable_id(self, ino):
        """The durable inode of a cache inode, created empty (and so wholly dirty) if it has none yet."""
        i = self.ids.get(ino)
        if i is None:
            i = self.new_id()
            fd = os.open(self.inode_path(i), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            os.close(fd)
            self.ids[ino] = i
            self.dirty[ino] = 0
        return i

    def sync_file(self, fd, ino):
        i = self.durable_id(ino)
        start = self.dirty.pop(ino, None)
        if start is None:
            return
        size = os.fstat(fd).st_size
        out = os.open(self.inode_path(i), os.O_WRONLY)
        try:
            os.ftruncate(out, min(start, size))  # from the first unsynced byte on: zeros (a hole) ...
            os.ftruncate(out, size)
            off = start
            while off < size:  # ... then the data, skipping holes (a preallocated log is mostly one)
                try:
                    off = os.lseek(fd, off, os.SEEK_DATA)
                except OSError:
                    break  # no data after off
                end = min(os.lseek(fd, off, os.SEEK_HOLE), size)
                while off < end:
                    chunk = os.pread(fd, min(1 << 20, end - off), off)
                    if not chunk:
                        break
                    os.pwrite(out, chunk, off)
                    off += len(chunk)
            os.fsync(out)
        finally:
            os.close(out)

    def sync_dir(self, rel):
        c = self.c(rel)
        ino = os.stat(c).st_ino
        b = self.dirs.get(ino)
        if b is None or not os.path.isdir(b):
            # no durable name yet: its entries go to an unnamed durable directory, named by its parent's sync
            self.next_id += 1
            b = os.path.join(self.backing, META, "dirs", str(self.next_id))
            os.makedirs(b)
            self.dirs[ino] = b
        live = {}
        for name in os.listdir(c):
            st = os.lstat(os.path.join(c, name))
            live[name] = st
        durable = set(os.listdir(b)) - ({META} if b == self.backing else set())
        moved = {self.dirs.get(st.st_ino) for st in live.values() if stat.S_ISDIR(st.st_mode)}
        for name in durable:
            p = os.path.join(b, name)
            if name in live and self.same(live[name], p):
                continue
            if os.path.isdir(p) and not os.path.islink(p):
                if p not in moved:
                    self.forget_dirs(p)
                    shutil.rmtree(p)
            else:
                os.unlink(p)
        for name, st in live.items():
            p = os.path.join(b, name)
            if self.same(st, p):
                continue
            if stat.S_ISDIR(st.st_mode):
                old = self.dirs.get(st.st_ino)
                if old is not None and os.path.isdir(old):
                    os.rename(old, p)
                    self.move_dirs(old, p)
                else:
                    os.mkdir(p)
                    self.dirs[st.st_ino] = p
            elif stat.S_ISREG(st.st_mode):
                src = self.inode_path(self.durable_id(st.st_ino))
                if os.path.lexists(p):
                    os.unlink(p)
                os.link(src, p)
        fd = os.open(b, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def sync_names(self):
        """Makes every directory change so far durable, parents first (--journaled-names)."""
        if self.journaled_names:
            for root, dirnames, _ in os.walk(self.cache):
                self.sync_dir("/" + os.path.relpath(root, self.cache) if root != self.cache else "/")

    def same(self, st, p):
        if not os.path.lexists(p):
            return False
        if stat.S_ISDIR(st.st_mode):
            return self.dirs.get(st.st_ino) == p
        i = self.ids.get(st.st_ino)
        return i is not None and os.lstat(p).st_ino == os.lstat(self.inode_path(i)).st_ino

    def forget_dirs(self, p):
        for k in [k for k, v in self.dirs.items() if v == p or v.startswith(p + os.sep)]:
            del self.dirs[k]

    def move_dirs(self, old, new):
        for k, v in list(self.dirs.items()):
            if v == old or v.startswith(old + os.sep):
                self.dirs[k] = new + v[len(old):]

    def forget_if_last(self, rel):
        """Before rel's name goes: if it is the file's last name, its cache inode (and number) may be reused."""
        try:
            st = os.lstat(self.c(rel))
        except FileNotFoundError:
            return
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
            self.ids.pop(st.st_ino, None)
            self.dirty.pop(st.st_ino, None)

    def mark(self, ino, off):
        self.dirty[ino] = min(off, self.dirty.get(ino, off))

    # ---- FUSE operations (fusepy), all passed through to the cache; a file handle is the cache's fd

    def c(self, path):
        return self.cache + path

    def op(self, f, *a):
        with self.mutex:
            if self.cut:
                raise FuseOSError(errno.EIO)
            try:
                return f(*a)
            except OSError as e:
                raise FuseOSError(e.errno or errno.EIO)

    @staticmethod
    def attrs(st):
        a = {k: getattr(st, k) for k in ("st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_size")}
        a.update(st_atime=st.st_atime_ns, st_mtime=st.st_mtime_ns, st_ctime=st.st_ctime_ns)  # use_ns
        return a

    def getattr(self, path, fh=None):
        return self.attrs(self.op(os.fstat, fh) if fh is not None else self.op(os.lstat, self.c(path)))

    def readdir(self, path, fh):
        return [".", ".."] + self.op(os.listdir, self.c(path))

    def fsyncdir(self, path, datasync, fh):
        self.op(lambda: None if self.no_fsync else (self.sync_names(), self.sync_dir(path)))
        return 0

    def statfs(self, path):
        st = self.op(os.statvfs, self.cache)
        return {k: getattr(st, k) for k in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files",
                                            "f_ffree", "f_favail", "f_flag", "f_namemax")}

    def access(self, path, mode):
        self.op(os.stat, self.c(path))
        return 0

    def mkdir(self, path, mode):
        return self.op(os.mkdir, self.c(path), mode)

    def rmdir(self, path):
        def run():
            ino = os.lstat(self.c(path)).st_ino
            os.rmdir(self.c(path))
            self.dirs.pop(ino, None)  # its number may be reused; its durable copy goes at its parent's sync
        return self.op(run)

    def unlink(self, path):
        def run():
            self.forget_if_last(path)
            os.unlink(self.c(path))
        return self.op(run)

    def rename(self, old, new):
        def run():
            self.forget_if_last(new)
            os.rename(self.c(old), self.c(new))
        return self.op(run)

    def link(self, name, target):
        return self.op(os.link, self.c(target), self.c(name))

    def chmod(self, path, mode):
        return self.op(os.chmod, self.c(path), mode)

    def chown(self, path, uid, gid):
        return self.op(os.chown, self.c(path), uid, gid)

    def utimens(self, path, times=None):
        return self.op(os.utime, self.c(path), None, times)

    def truncate(self, path, length, fh=None):
        def run():
            if fh is None:
                os.truncate(self.c(path), length)
                self.mark(os.lstat(self.c(path)).st_ino, length)
            else:
                os.ftruncate(fh, length)
                self.mark(self.inos[fh], length)
        return self.op(run)

    def open(self, path, flags, mode=0o644):
        def run():
            # read-write, so a sync can copy what was written; offsets come from the kernel (no O_APPEND)
            own = (flags & ~(os.O_DIRECT | os.O_APPEND | os.O_ACCMODE)) | os.O_RDWR
            fd = os.open(self.c(path), own, mode)
            self.inos[fd] = os.fstat(fd).st_ino
            if flags & os.O_TRUNC:
                self.mark(self.inos[fd], 0)
            return fd
        return self.op(run)

    def create(self, path, mode, fi=None):
        return self.open(path, os.O_CREAT | os.O_RDWR, mode)

    def read(self, path, size, offset, fh):
        return self.op(os.pread, fh, size, offset)

    def write(self, path, data, offset, fh):
        def run():
            size = os.fstat(fh).st_size
            n = os.pwrite(fh, data, offset)
            self.mark(self.inos[fh], min(offset, size))  # a hole before offset counts as written
            return n
        return self.op(run)

    def fsync(self, path, datasync, fh):
        self.op(lambda: None if self.no_fsync else (self.sync_names(), self.sync_file(fh, self.inos[fh])))
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        with self.mutex:
            ino = self.inos.pop(fh, None)
            try:
                if os.fstat(fh).st_nlink == 0:
                    self.ids.pop(ino, None)
                    self.dirty.pop(ino, None)
            finally:
                os.close(fh)
        return 0

    # ---- control

    def control(self):
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "cut":
                with self.mutex:
                    self.cut = True
                    unsynced = len(self.dirty)
                print("cut %d" % unsynced, flush=True)
            elif cmd:
                print("unknown command " + cmd, flush=True)

    def init(self, path):
        threading.Thread(target=self.control, daemon=True).start()
        print("mounted", flush=True)


def main():
    args = sys.argv[1:]
    backing, cache, mountpoint = (os.path.abspath(a) for a in args[:3])
    fs = LazyFs(backing, cache, "--no-fsync" in args, "--journaled-names" in args)
    FUSE(fs, mountpoint, foreground=True, nothreads=False, big_writes=True, max_write=131072, fsname="lazyfs")


if __name__ == "__main__":
    main()
