#include "config.h"

#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adopt.h"
#include "decide.h"
#include "fdtable.h"
#include "real.h"

#define SD_LISTEN_FDS_START 3
#define ADOPTABLE_MAX 16

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
    const char *pid_text = getenv("LISTEN_PID");
    const char *count_text = getenv("LISTEN_FDS");
    if (!pid_text || !count_text || strtol(pid_text, NULL, 10) != (long)getpid())
        return 0;
    long count = strtol(count_text, NULL, 10);
    return count < 0 ? 0 : count > ADOPTABLE_MAX - 3 ? ADOPTABLE_MAX - 3 : (int)count;
}

int lc_adopt_handed_over(void)
{
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
        if (!connected_tcp(fd, &st))
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
            lc_fdtable_created(fd, linger_flags(fd) | (cloexec ? LC_FD_CLOEXEC : 0));
            sockets++;
        }
        adopted[taken++] = (struct candidate){ fd, st.st_dev, st.st_ino };
    }
    return sockets;
}
