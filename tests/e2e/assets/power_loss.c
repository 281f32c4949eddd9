/* LD_PRELOAD shim for THREATS row 49, the power-loss half: it records what a disk would
 * still hold if the machine lost power now, for files under POWER_LOSS_ROOT.
 *
 * - After every successful fsync/fdatasync of a regular file, the file's whole content is
 *   copied to POWER_LOSS_SHADOW/files/<inode>: the state the disk must keep.
 * - After every successful sync of a directory, its entries ("<inode> <name>" lines) go to
 *   POWER_LOSS_SHADOW/dirs/<inode>.
 * - Every write/pwrite/ftruncate between two syncs is appended to
 *   POWER_LOSS_SHADOW/pending/<inode> ("W <offset> <length>\n" + data, "T <length>\n"), and
 *   the file's next sync forgets them: a crash may have kept any of them, or none.
 * - Syncs are numbered and listed in POWER_LOSS_SHADOW/syncs; with POWER_LOSS_CRASH_AT=N, the
 *   Nth sync under the root SIGKILLs the process before syncing: the power went off while
 *   that sync was on its way.
 *
 * Copies are written to a temporary name and renamed, so a kill leaves the previous copy
 * whole. The process must not write a file from two threads while syncing it (tenantry's
 * store connection is used by one thread at a time). */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static long syncs;

#define REAL(name, type) \
    static type real_##name; \
    if (!real_##name) \
        real_##name = (type)dlsym(RTLD_NEXT, #name)

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*sync_fn)(int);
typedef int (*truncate_fn)(int, off_t);

/* Whether fd names something under POWER_LOSS_ROOT. */
static int watched(int fd)
{
    const char *root = getenv("POWER_LOSS_ROOT");
    char link[64], path[4096];
    ssize_t n;
    size_t len;
    if (root == NULL || getenv("POWER_LOSS_SHADOW") == NULL)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;
    path[n] = '\0';
    len = strlen(root);
    return strncmp(path, root, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

static void shadow_path(char *out, size_t size, const char *kind, ino_t ino, const char *suffix)
{
    snprintf(out, size, "%s/%s/%lu%s", getenv("POWER_LOSS_SHADOW"), kind, (unsigned long)ino,
             suffix);
}

/* Write everything, retrying short writes (through the real write: no recursion). */
static int put(int fd, const void *data, size_t length)
{
    REAL(write, write_fn);
    const char *p = data;
    while (length > 0) {
        ssize_t n = real_write(fd, p, length);
        if (n <= 0)
            return -1;
        p += n;
        length -= (size_t)n;
    }
    return 0;
}

static void copy_file(int fd, ino_t ino)
{
    char tmp[4096], final[4096], ops[4096], proc[64], buffer[65536];
    off_t offset = 0;
    ssize_t n;
    int source, out;
    shadow_path(tmp, sizeof tmp, "files", ino, ".tmp");
    shadow_path(final, sizeof final, "files", ino, "");
    /* A fresh descriptor: the caller's may be write-only, and its offset must not move. */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    source = open(proc, O_RDONLY);
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (source < 0 || out < 0)
        abort(); /* the model is broken: fail loudly rather than record a wrong state */
    while ((n = pread(source, buffer, sizeof buffer, offset)) > 0) {
        if (put(out, buffer, (size_t)n) != 0)
            abort();
        offset += n;
    }
    close(source);
    close(out);
    /* Forget the pending writes first: a kill between the two steps then leaves the older
     * copy alone (the sync had not finished), never the new copy with writes it holds. */
    shadow_path(ops, sizeof ops, "pending", ino, "");
    unlink(ops);
    rename(tmp, final);
}

static void copy_directory(int fd, ino_t ino)
{
    char tmp[4096], final[4096], proc[64], line[4200];
    struct dirent *entry;
    DIR *dir;
    int out;
    shadow_path(tmp, sizeof tmp, "dirs", ino, ".tmp");
    shadow_path(final, sizeof final, "dirs", ino, "");
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    dir = opendir(proc);
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (dir == NULL || out < 0)
        abort();
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        int n = snprintf(line, sizeof line, "%lu %s\n", (unsigned long)entry->d_ino,
                         entry->d_name);
        if (put(out, line, (size_t)n) != 0)
            abort();
    }
    closedir(dir);
    close(out);
    rename(tmp, final);
}

static int synced(int fd, int rc)
{
    struct stat st;
    if (rc == 0 && fstat(fd, &st) == 0) {
        if (S_ISREG(st.st_mode))
            copy_file(fd, st.st_ino);
        else if (S_ISDIR(st.st_mode))
            copy_directory(fd, st.st_ino);
    }
    return rc;
}

/* Number this sync, note it in POWER_LOSS_SHADOW/syncs ("<n> <path>"), and die at the chosen one. */
static void maybe_crash(int fd)
{
    const char *at = getenv("POWER_LOSS_CRASH_AT");
    char link[64], path[4096], journal[4096], line[4200];
    long n = __sync_add_and_fetch(&syncs, 1);
    ssize_t length;
    int out, size;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    length = readlink(link, path, sizeof path - 1);
    path[length < 0 ? 0 : length] = '\0';
    snprintf(journal, sizeof journal, "%s/syncs", getenv("POWER_LOSS_SHADOW"));
    size = snprintf(line, sizeof line, "%ld %s\n", n, path);
    out = open(journal, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out < 0 || put(out, line, (size_t)size) != 0)
        abort();
    close(out);
    if (at != NULL && n == atol(at))
        kill(getpid(), SIGKILL);
}

int fsync(int fd)
{
    REAL(fsync, sync_fn);
    if (!watched(fd))
        return real_fsync(fd);
    maybe_crash(fd);
    return synced(fd, real_fsync(fd));
}

int fdatasync(int fd)
{
    REAL(fdatasync, sync_fn);
    if (!watched(fd))
        return real_fdatasync(fd);
    maybe_crash(fd);
    return synced(fd, real_fdatasync(fd));
}

/* Append one pending operation of a regular file: header, then the data (if any). */
static void pending(int fd, const char *header, const void *data, size_t length)
{
    char path[4096];
    struct stat st;
    int out;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    shadow_path(path, sizeof path, "pending", st.st_ino, "");
    out = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out < 0 || put(out, header, strlen(header)) != 0 ||
        (length > 0 && put(out, data, length) != 0))
        abort();
    close(out);
}

static void pending_write(int fd, const void *data, ssize_t written, off_t offset)
{
    char header[80];
    if (written <= 0 || !watched(fd))
        return;
    if (offset < 0) /* write(): at the descriptor's offset, which the write has moved */
        offset = lseek(fd, 0, SEEK_CUR) - written;
    snprintf(header, sizeof header, "W %lld %lld\n", (long long)offset, (long long)written);
    pending(fd, header, data, (size_t)written);
}

ssize_t write(int fd, const void *data, size_t length)
{
    REAL(write, write_fn);
    ssize_t n = real_write(fd, data, length);
    pending_write(fd, data, n, -1);
    return n;
}

ssize_t pwrite(int fd, const void *data, size_t length, off_t offset)
{
    REAL(pwrite, pwrite_fn);
    ssize_t n = real_pwrite(fd, data, length, offset);
    pending_write(fd, data, n, offset);
    return n;
}

ssize_t pwrite64(int fd, const void *data, size_t length, off_t offset)
{
    REAL(pwrite64, pwrite_fn);
    ssize_t n = real_pwrite64(fd, data, length, offset);
    pending_write(fd, data, n, offset);
    return n;
}

static int truncated(int fd, off_t length, int rc)
{
    char header[80];
    if (rc == 0 && watched(fd)) {
        snprintf(header, sizeof header, "T %lld\n", (long long)length);
        pending(fd, header, NULL, 0);
    }
    return rc;
}

int ftruncate(int fd, off_t length)
{
    REAL(ftruncate, truncate_fn);
    return truncated(fd, length, real_ftruncate(fd, length));
}

int ftruncate64(int fd, off_t length)
{
    REAL(ftruncate64, truncate_fn);
    return truncated(fd, length, real_ftruncate64(fd, length));
}
