/* SPDX-License-Identifier: MIT */
/* The descriptor table (shim/holders/fdtable.c) over the shared holder counts: what
 * fork, dup and exec do to a socket's count, in one process playing every
 * part. "The other process" of a scene is played by calls on the record
 * itself, as its own close would make them. */
#include "config.h"

#include <criterion/criterion.h>
#include <sys/socket.h>
#include <unistd.h>

#include "holders/fdtable.h"
#include "holders/holders.h"

TestSuite(fdtable, .timeout = 30);

#define HANDLE_MASK UINT64_C(0xffffffff)

static int tracked_socket(uint64_t flags)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    cr_assert(lc_fdtable_own(fd, flags));
    return fd;
}

/* A forked child of this process: one more holder of every socket. */
static uint32_t forked(int fd)
{
    cr_assert(lc_holders_ensure());
    lc_fdtable_hold_all();
    uint32_t record = lc_fd_record(lc_fdtable_state(fd));
    cr_assert_neq(record, 0);
    return record;
}

static bool closes_plainly(int fd)
{
    struct lc_fd_entry taken;
    cr_assert(lc_fdtable_take(fd, &taken));
    cr_assert_eq(lc_fd_record(taken.state), 0, "a close must not touch the record again");
    return (taken.state & LC_FD_SENT_AWAY) != 0;
}

/* The scene of the finding: the child gives its hold back for exec(), the
 * parent closes in that window (it is the last holder now, frees the
 * record), an unrelated socket gets the record, and exec() fails. */
Test(fdtable, failed_exec_never_takes_back_a_recycled_record)
{
    int fd = tracked_socket(LC_FD_CLOEXEC);
    uint32_t record = forked(fd);

    lc_fdtable_release_for_exec();
    cr_assert(lc_fdtable_state(fd) & LC_FD_EXEC_RELEASED);
    uint32_t flags = 0;
    cr_assert_eq(lc_holders_release(record, &flags), 1, "the parent's close is the last");

    uint32_t unrelated = lc_holders_new(2, 0);
    cr_assert_eq(lc_holders_slot(unrelated), lc_holders_slot(record), "the record is reused");

    lc_fdtable_exec_failed();
    uint64_t state = lc_fdtable_state(fd);
    cr_assert_eq(state & HANDLE_MASK, 0, "the stale record is dropped");
    cr_assert(state & LC_FD_SENT_AWAY, "the child's socket is shared for good");
    cr_assert_not(state & LC_FD_EXEC_RELEASED);

    cr_assert_eq(lc_holders_release(unrelated, NULL), 2, "the unrelated socket counts its own two");
    cr_assert_eq(lc_holders_release(unrelated, NULL), 1, "and its last close may linger");
    cr_assert(closes_plainly(fd));
    cr_assert_not(lc_holders_corruption_seen());
    close(fd);
}

Test(fdtable, failed_exec_takes_back_a_record_still_held)
{
    int fd = tracked_socket(LC_FD_CLOEXEC);
    uint32_t record = forked(fd);

    lc_fdtable_release_for_exec();
    lc_fdtable_exec_failed();
    uint64_t state = lc_fdtable_state(fd);
    cr_assert_eq(lc_fd_record(state), record);
    cr_assert_not(state & (LC_FD_EXEC_RELEASED | LC_FD_SENT_AWAY));
    cr_assert_eq(lc_holders_release(record, NULL), 2, "the child counts again");

    struct lc_fd_entry taken;
    cr_assert(lc_fdtable_take(fd, &taken));
    cr_assert_eq(lc_holders_release(lc_fd_record(taken.state), NULL), 1);
    close(fd);
}

Test(fdtable, descriptors_without_close_on_exec_keep_their_hold)
{
    int fd = tracked_socket(0);
    uint32_t record = forked(fd);
    lc_fdtable_release_for_exec();
    cr_assert_not(lc_fdtable_state(fd) & LC_FD_EXEC_RELEASED);
    cr_assert_eq(lc_holders_release(record, NULL), 2);
    close(fd);
}

/* Another thread closes the descriptor while this one is in exec(): its
 * hold is already given back and must not be given back twice. */
Test(fdtable, close_during_exec_releases_nothing)
{
    int fd = tracked_socket(LC_FD_CLOEXEC);
    uint32_t record = forked(fd);
    cr_assert(lc_holders_hold(record)); /* a second child */
    lc_fdtable_release_for_exec();
    cr_assert(closes_plainly(fd));
    lc_fdtable_exec_failed();
    cr_assert_eq(lc_holders_release(record, NULL), 2, "the two children still count");
    cr_assert_eq(lc_holders_release(record, NULL), 1);
    close(fd);
}

/* A record that another process freed and reused behind our back (only a
 * write into the mapping can do that while we hold it): a dup or a fork
 * of the socket must not count on the other socket's record. */
Test(fdtable, dup_of_a_socket_whose_record_was_taken_over)
{
    int fd = tracked_socket(0);
    uint32_t record = forked(fd);
    cr_assert_eq(lc_holders_release(record, NULL), 2);
    cr_assert_eq(lc_holders_release(record, NULL), 1);
    uint32_t unrelated = lc_holders_new(2, 0);
    cr_assert_eq(lc_holders_slot(unrelated), lc_holders_slot(record));

    int copy = dup(fd);
    lc_fdtable_duplicate(fd, copy, false);
    cr_assert_eq(lc_fdtable_state(fd) & HANDLE_MASK, 0);
    cr_assert(lc_fdtable_state(fd) & LC_FD_SENT_AWAY);
    cr_assert(lc_fdtable_state(copy) & LC_FD_SENT_AWAY);
    lc_fdtable_hold_all();
    cr_assert_eq(lc_holders_release(unrelated, NULL), 2, "nobody took a hold on it");
    cr_assert(closes_plainly(fd));
    cr_assert(closes_plainly(copy));
    close(fd);
    close(copy);
}

Test(fdtable, fork_over_a_record_taken_over_marks_the_socket_shared)
{
    int fd = tracked_socket(0);
    uint32_t record = forked(fd);
    lc_holders_release(record, NULL);
    lc_holders_release(record, NULL);
    uint32_t unrelated = lc_holders_new(1, 0);
    lc_fdtable_hold_all();
    cr_assert(lc_fdtable_state(fd) & LC_FD_SENT_AWAY);
    cr_assert_eq(lc_holders_release(unrelated, NULL), 1);
    cr_assert(closes_plainly(fd));
    close(fd);
}
