/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide/decide.h"
#include "holders/adopt.h"
#include "holders/fdtable.h"
#include "log/log.h"
#include "sys/real.h"

#define SD_LISTEN_FDS_START 3
#define ADOPTABLE_MAX 16
#define HELD_MAX 16

/* Sockets handed over to some process: inherited from LINGERCLOSE_SHARED,
 * then those this process adopted. */
static struct held {
    long pid;
    unsigned long long inode;
} held[HELD_MAX];
static int held_count;
/* "LINGERCLOSE_SHARED=" and up to HELD_MAX "PID:INODE," items. */
static char marker[sizeof LC_SHARED_VARIABLE + HELD_MAX * 42];

static void hold(long pid, unsigned long long inode)
{
    for (int i = 0; i < held_count; i++)
        if (held[i].inode == inode) {
            held[i].pid = pid;
            return;
        }
    if (held_count < HELD_MAX)
        held[held_count++] = (struct held){ pid, inode };
}

static bool parse_number(const char **p, char stop, unsigned long long *out)
{
    size_t digits = strspn(*p, "0123456789");
    if (digits == 0 || digits > 19 || ((*p)[digits] != stop && (*p)[digits] != '\0'))
        return false;
    *out = strtoull(*p, NULL, 10);
    *p += digits;
    return true;
}

/* Strict: a value the library did not write is ignored whole, with a line
 * saying so. */
static void read_inherited(void)
{
    const char *text = secure_getenv(LC_SHARED_VARIABLE);
    if (!text || !*text)
        return;
    struct held found[HELD_MAX];
    int count = 0;
    for (const char *p = text; *p;) {
        unsigned long long pid, inode;
        if (count == HELD_MAX || !parse_number(&p, ':', &pid) || *p++ != ':' ||
            !parse_number(&p, ',', &inode) || pid == 0 || pid > INT32_MAX) {
            lc_log_always(LC_LOG_WARN,
                          "%s is not valid (accepted: up to %d PID:INODE items separated by "
                          "commas, as the library sets it for the programs a service starts); "
                          "ignoring it",
                          LC_SHARED_VARIABLE, HELD_MAX);
            return;
        }
        found[count++] = (struct held){ (long)pid, inode };
        if (*p == ',')
            p++;
    }
    for (int i = 0; i < count; i++)
        hold(found[i].pid, found[i].inode);
}

static bool held_by_another_process(unsigned long long inode)
{
    for (int i = 0; i < held_count; i++)
        if (held[i].inode == inode)
            return held[i].pid != (long)getpid();
    return false;
}

static void publish(void)
{
    size_t n = lc_formatf(marker, sizeof marker, "%s=", LC_SHARED_VARIABLE);
    for (int i = 0; i < held_count; i++)
        n += lc_formatf(marker + n, sizeof marker - n, "%s%ld:%llu", i ? "," : "", held[i].pid,
                        held[i].inode);
    /* Before main(), single-threaded: the one moment setenv is safe. It
     * reaches children started any way (system, popen, posix_spawn). */
    setenv(LC_SHARED_VARIABLE, marker + sizeof LC_SHARED_VARIABLE, 1);
}

const char *lc_adopt_marker(void)
{
    return marker[0] ? marker : NULL;
}

size_t lc_adopt_env_room(char *const envp[])
{
    size_t count = 0;
    if (marker[0] && envp)
        while (envp[count])
            count++;
    return count + 2;
}

char *const *lc_adopt_env_with_marker(char *const envp[], char **room, size_t room_size)
{
    if (!marker[0] || !envp || room_size < 2)
        return envp;
    size_t n = 0;
    for (size_t i = 0; envp[i] && n + 2 < room_size; i++)
        if (strncmp(envp[i], LC_SHARED_VARIABLE "=", sizeof LC_SHARED_VARIABLE) != 0)
            room[n++] = envp[i];
    room[n++] = marker;
    room[n] = NULL;
    return room;
}

struct candidate {
    int fd;
    dev_t dev;
    ino_t ino;
};

static bool connected_tcp(int fd, struct stat *st)
{
    if (fstat(fd, st) != 0 || !S_ISSOCK(st->st_mode))
        return false;
    struct tcp_info info;
    socklen_t len = sizeof info;
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && len > 0 &&
           lc_tcp_connected(info.tcpi_state);
}

static uint64_t linger_flags(int fd)
{
    struct linger lg = { 0, 0 };
    socklen_t len = sizeof lg;
    if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) != 0)
        return 0;
    return LC_FD_LINGER_KNOWN | (lg.l_onoff && lg.l_linger == 0 ? LC_FD_ABORTIVE : 0);
}

/* systemd's sd_listen_fds(3) protocol: LISTEN_PID names the process the
 * descriptors are for, LISTEN_FDS how many start at 3. */
static int systemd_passed_count(void)
{
    const char *pid_text = secure_getenv("LISTEN_PID");
    const char *count_text = secure_getenv("LISTEN_FDS");
    if (!pid_text || !count_text || strtol(pid_text, NULL, 10) != (long)getpid())
        return 0;
    long count = strtol(count_text, NULL, 10);
    return count < 0 ? 0 : count > ADOPTABLE_MAX - 3 ? ADOPTABLE_MAX - 3 : (int)count;
}

int lc_adopt_handed_over(void)
{
    read_inherited();
    int fds[ADOPTABLE_MAX];
    int count = 0;
    for (int fd = 0; fd <= 2; fd++)
        fds[count++] = fd;
    int passed = systemd_passed_count();
    for (int i = 0; i < passed; i++)
        fds[count++] = SD_LISTEN_FDS_START + i;

    struct candidate adopted[ADOPTABLE_MAX];
    int sockets = 0, taken = 0;
    for (int i = 0; i < count; i++) {
        int fd = fds[i];
        struct stat st;
        if (!connected_tcp(fd, &st) || held_by_another_process(st.st_ino))
            continue;
        int flags = lc_real_fcntl(fd, F_GETFD, NULL);
        bool cloexec = flags >= 0 && (flags & FD_CLOEXEC);
        int same = -1;
        for (int j = 0; j < taken; j++)
            if (adopted[j].dev == st.st_dev && adopted[j].ino == st.st_ino)
                same = adopted[j].fd;
        if (same >= 0) {
            lc_fdtable_duplicate(same, fd, cloexec);
        } else {
            lc_fdtable_own(fd, linger_flags(fd) | (cloexec ? LC_FD_CLOEXEC : 0));
            hold((long)getpid(), st.st_ino);
            sockets++;
        }
        adopted[taken++] = (struct candidate){ fd, st.st_dev, st.st_ino };
    }
    if (held_count)
        publish();
    return sockets;
}
