/* LD_PRELOAD shim for THREATS row 49: the Nth fsync/fdatasync of the process (N from
 * FAIL_FSYNC_AT) fails with EIO, as a dying disk would; every other call goes through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

static long calls;

static int should_fail(void)
{
    const char *at = getenv("FAIL_FSYNC_AT");
    long n = __sync_add_and_fetch(&calls, 1);
    return at != NULL && n == atol(at);
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (should_fail()) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (should_fail()) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
