/* SPDX-License-Identifier: MIT */
/* A multithreaded server: a pool of worker threads all blocked in accept()
 * on one shared listener (the classic thread-per-core or "thundering herd"
 * design of many HTTP servers), each answering uploads with an early error
 * and closing at once. Every close() runs concurrently with other threads'
 * accept(), close() and the library's own hand-offs: a library that lost
 * track of a descriptor, closed one twice or kept one would show up here as
 * a close() failing, a leaked descriptor, or a drain that never ends.
 *
 *   threads [--threads T] [--connections N]
 *
 * The main thread serves the first connection alone (so that the
 * descriptor count after it is a clean baseline), then T workers serve the
 * other N-1. Observations:
 *   fds_before       descriptors before the first connection
 *   fds_after_first  descriptors right after the first one was closed
 *   close_failures   close() calls that did not return 0
 *   drain_fds        descriptors the "lingerclose" thread holds once the
 *                    drains are over (as many as drain_fds_idle)
 *   fds_at_end       descriptors once every connection was served and
 *                    every drain ended (must equal fds_after_first)
 * Exits 2 if a close() failed. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

#define DRAIN_WAIT_MS 10000

static int listen_fd;
static int connection_count = 200;
/* Tickets for the connections the workers may still accept: taking one
 * before accept() makes the pool accept exactly N-1 in all. */
static atomic_int tickets_taken;
static atomic_int served;
static atomic_int close_failures;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static bool all_served;
static bool may_exit;

static void serve_one(void)
{
    int fd = pattern_accept(listen_fd);
    pattern_read_some_request(fd);
    pattern_send_early_error(fd);
    if (close(fd) != 0) {
        fprintf(stderr, "threads: close(%d) failed: %s\n", fd, strerror(errno));
        atomic_fetch_add(&close_failures, 1);
    }
    if (atomic_fetch_add(&served, 1) + 1 == connection_count) {
        pthread_mutex_lock(&lock);
        all_served = true;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
}

static void *worker(void *unused)
{
    (void)unused;
    /* The first connection is the main thread's. */
    while (atomic_fetch_add(&tickets_taken, 1) < connection_count - 1)
        serve_one();
    /* Stay alive until the end, so that the test can count the threads
     * with the pool complete. */
    pthread_mutex_lock(&lock);
    while (!may_exit)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* The drains end as the clients close, leaving the drain thread with what
 * it held before the first one (without the library there are none). */
static int wait_for_drains(int idle_fds)
{
    int fds = pattern_drain_thread_fds();
    for (int waited = 0; fds > idle_fds && waited < DRAIN_WAIT_MS; waited += 10) {
        pattern_sleep_ms(10);
        fds = pattern_drain_thread_fds();
    }
    return fds;
}

int main(int argc, char **argv)
{
    int thread_count = 8;
    const struct pattern_option options[] = {
        { .name = "threads", .number = &thread_count, .min = 1, .max = INT_MAX },
        PATTERN_CONNECTIONS(connection_count),
        { 0 },
    };
    pattern_options(argc, argv, options, "threads [--threads N] [--connections N]");

    listen_fd = pattern_listen();
    /* The library starts its thread at the listener's socket(), and it has
     * its own descriptors (two: the hand-off's receiving end and an epoll
     * descriptor) by the time socket() returns. */
    int drain_fds_idle = pattern_drain_thread_fds();
    if (drain_fds_idle < 0)
        pattern_observe("drain_fds_idle", "none");
    else
        pattern_observe("drain_fds_idle", "%d", drain_fds_idle);
    pattern_observe("fds_before", "%d", pattern_open_fds());
    serve_one();
    pattern_observe("fds_after_first", "%d", pattern_open_fds());

    pthread_t *workers = calloc((size_t)thread_count, sizeof *workers);
    for (int i = 0; i < thread_count; i++) {
        int rc = pthread_create(&workers[i], NULL, worker, NULL);
        if (rc != 0) {
            errno = rc;
            pattern_die("pthread_create");
        }
    }

    pthread_mutex_lock(&lock);
    while (!all_served)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);

    int drain_fds = wait_for_drains(drain_fds_idle);
    if (drain_fds < 0)
        pattern_observe("drain_fds", "none");
    else
        pattern_observe("drain_fds", "%d", drain_fds);
    pattern_observe("close_failures", "%d", atomic_load(&close_failures));
    /* Last: the test counts the threads once it sees this line. */
    pattern_observe("fds_at_end", "%d", pattern_open_fds());

    pattern_wait_for_stdin_eof();
    pthread_mutex_lock(&lock);
    may_exit = true;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < thread_count; i++)
        pthread_join(workers[i], NULL);
    free(workers);
    close(listen_fd);
    return atomic_load(&close_failures) ? 2 : 0;
}
