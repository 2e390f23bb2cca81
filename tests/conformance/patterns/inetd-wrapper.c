/* SPDX-License-Identifier: MIT */
/* A tiny inetd / tcpserver / xinetd ("nowait" service): it accepts each
 * connection, forks, and the child puts the connection on stdin and stdout
 * (dup2 onto 0 and 1), closes the original and the listener, and execs the
 * service named after "--". The parent closes its copy at once and goes on
 * accepting. The exec'd service knows nothing of sockets: it reads stdin
 * and writes stdout, and lets the process end close the connection.
 *
 *   inetd-wrapper [--connections N] [--on-fd N] [--stderr-too] [--service-env K=V]...
 *                 -- SERVICE [ARG]...
 *
 * --on-fd N puts the connection on descriptor N instead of 0 and 1.
 * --stderr-too puts it on 2 as well, as xinetd does: what the service
 * writes to stderr goes to the client.
 * --service-env adds K=V to the service's environment only (a test can
 * preload the library into the service and not into the wrapper). The
 * wrapper announces itself on stderr as "ROLE wrapper <pid>"; the services
 * share its stderr. Its own stdin stays the test's pipe: once it has
 * accepted N connections and every service has ended, it waits for EOF
 * there. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"

#define SERVICE_ENV_MAX 8

static bool stderr_too;

static _Noreturn void run_service(int listener, int fd, int on_fd, char **service,
                                  char **service_env, int service_env_count)
{
    if (on_fd >= 0) {
        if (dup2(fd, on_fd) != on_fd)
            _exit(5);
    } else if (dup2(fd, STDIN_FILENO) != STDIN_FILENO ||
               dup2(fd, STDOUT_FILENO) != STDOUT_FILENO ||
               (stderr_too && dup2(fd, STDERR_FILENO) != STDERR_FILENO)) {
        _exit(5);
    }
    close(fd);
    close(listener);
    for (int i = 0; i < service_env_count; i++)
        if (putenv(service_env[i]) != 0)
            _exit(5);
    execv(service[0], service);
    if (!stderr_too)
        fprintf(stderr, "inetd-wrapper: exec %s failed\n", service[0]);
    _exit(6);
}

static char *service_env[SERVICE_ENV_MAX];
static int service_env_count;

static void take_service_env(const char *setting)
{
    if (!strchr(setting, '='))
        die("--service-env takes NAME=VALUE, not '%s'", setting);
    if (service_env_count == SERVICE_ENV_MAX)
        die("--service-env is accepted at most %d times", SERVICE_ENV_MAX);
    service_env[service_env_count++] = (char *)setting;
}

int main(int argc, char **argv)
{
    int connections = 1;
    int on_fd = -1;
    const struct pattern_option options[] = {
        PATTERN_CONNECTIONS(connections),
        { .name = "on-fd", .number = &on_fd, .min = 0, .max = INT_MAX },
        { .name = "stderr-too", .flag = &stderr_too },
        { .name = "service-env", .take = take_service_env },
        { 0 },
    };
    char **service = pattern_options(argc, argv, options,
                                     "inetd-wrapper [--connections N] [--on-fd N] [--stderr-too] "
                                     "[--service-env K=V]... -- SERVICE [ARG]...");
    if (!*service)
        die("no service after --");

    int listener = pattern_listen();
    fprintf(stderr, "ROLE wrapper %d\n", (int)getpid());
    for (int i = 0; i < connections; i++) {
        int fd = pattern_accept(listener);
        pid_t pid = fork();
        if (pid < 0)
            pattern_die("fork");
        if (pid == 0)
            run_service(listener, fd, on_fd, service, service_env, service_env_count);
        close(fd);
    }
    pattern_reap_children();
    pattern_observe("services-done", "%d", connections);
    pattern_wait_for_stdin_eof();
    return 0;
}
