/* SPDX-License-Identifier: MIT */
/* What a program sees of syscall() for the numbers the library passes on:
 * the same results and errno as without it. Prints one line per check and
 * how many times it called syscall(); exits 1 if a check failed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Linux numbers system calls added since 5.1 alike on every architecture;
 * older headers (glibc 2.31) lack the name. */
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static int failures;
static long syscall_calls;
/* Every call below is counted, for a wrapper's count to be compared with. */
#define syscall(...) (syscall_calls++, syscall(__VA_ARGS__))

static void check(int ok, const char *what, long rc, int err)
{
    printf("%s - %s (returned %ld, errno %d: %s)\n", ok ? "ok" : "not ok", what, rc, err,
           strerror(err));
    if (!ok)
        failures++;
}

#define EXPECT_ERROR(call, expected_errno, what)                                       \
    do {                                                                               \
        errno = 0;                                                                     \
        long rc_ = (call);                                                             \
        int err_ = errno;                                                              \
        check(rc_ == -1 && err_ == (expected_errno), what, rc_, err_);                 \
    } while (0)

/* A success leaves errno alone, as glibc's syscall() does. */
#define EXPECT_VALUE(call, expected, what)                                             \
    do {                                                                               \
        errno = EDOM;                                                                  \
        long rc_ = (call);                                                             \
        int err_ = errno;                                                              \
        check(rc_ == (long)(expected) && err_ == EDOM, what, rc_, err_);               \
    } while (0)

int main(void)
{
    EXPECT_VALUE(syscall(SYS_getpid), getpid(), "SYS_getpid is getpid()");
    EXPECT_VALUE(syscall(SYS_getppid), getppid(), "SYS_getppid is getppid()");
    EXPECT_ERROR(syscall(-1L), ENOSYS, "number -1: ENOSYS");
    EXPECT_ERROR(syscall(100000L), ENOSYS, "number 100000: ENOSYS");
    EXPECT_ERROR(syscall(SYS_read, -1, NULL, 0), EBADF, "SYS_read on fd -1: EBADF");
    EXPECT_ERROR(syscall(SYS_kill, getpid(), 12345), EINVAL, "SYS_kill with signal 12345: EINVAL");

    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        perror("pipe2");
        return 1;
    }
    char out[] = "abcdef", in[8] = { 0 };
    EXPECT_VALUE(syscall(SYS_write, pipe_fds[1], out, 6), 6, "SYS_write of 6 bytes to a pipe");
    EXPECT_VALUE(syscall(SYS_read, pipe_fds[0], in, sizeof in), 6, "SYS_read of them");
    check(memcmp(in, out, 6) == 0, "the bytes read are the bytes written", 0, 0);

    /* Six arguments, the last ones reaching the kernel: preadv2's flags
     * (the sixth) set to an unknown bit must give EOPNOTSUPP. */
    struct iovec iov = { in, sizeof in };
    EXPECT_ERROR(syscall(SYS_preadv2, pipe_fds[0], &iov, 1, -1L, 0L, 0x40000000L), EOPNOTSUPP,
                 "SYS_preadv2 with an unknown sixth-argument flag: EOPNOTSUPP");

    /* Routed numbers keep the kernel's results on what is not a socket. */
    EXPECT_VALUE(syscall(SYS_dup3, pipe_fds[0], pipe_fds[0] + 10, O_CLOEXEC), pipe_fds[0] + 10,
                 "SYS_dup3 onto a free number returns it");
    EXPECT_ERROR(syscall(SYS_dup3, pipe_fds[0], pipe_fds[0], 0), EINVAL,
                 "SYS_dup3 onto itself: EINVAL");
    EXPECT_VALUE(syscall(SYS_close, pipe_fds[0] + 10), 0, "SYS_close of a pipe");
    EXPECT_ERROR(syscall(SYS_close, pipe_fds[0] + 10), EBADF, "SYS_close again: EBADF");
    EXPECT_ERROR(syscall(SYS_close_range, 10, 5, 0), EINVAL, "SYS_close_range 10..5: EINVAL");
    EXPECT_ERROR(syscall(SYS_shutdown, pipe_fds[0], SHUT_WR), ENOTSOCK,
                 "SYS_shutdown of a pipe: ENOTSOCK");
    EXPECT_ERROR(syscall(SYS_socket, AF_INET, 12345, 0), EINVAL,
                 "SYS_socket of type 12345: EINVAL");
    EXPECT_ERROR(syscall(SYS_accept4, pipe_fds[0], NULL, NULL, 0), ENOTSOCK,
                 "SYS_accept4 on a pipe: ENOTSOCK");
    printf("syscall() calls: %ld\n", syscall_calls);
    return failures ? 1 : 0;
}
