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

int main(int argc, char **argv)
{
    int connections = 1;
    int on_fd = -1;
    char *service_env[SERVICE_ENV_MAX];
    int service_env_count = 0;
    char **service = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc) {
            connections = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--on-fd") == 0 && i + 1 < argc) {
            on_fd = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--stderr-too") == 0) {
            stderr_too = true;
        } else if (strcmp(argv[i], "--service-env") == 0 && i + 1 < argc &&
                   service_env_count < SERVICE_ENV_MAX && strchr(argv[i + 1], '=')) {
            service_env[service_env_count++] = argv[++i];
        } else if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
            service = &argv[i + 1];
            break;
        } else {
            pattern_die("usage: inetd-wrapper [--connections N] [--on-fd N] "
                        "[--service-env K=V]... -- SERVICE [ARG]...");
        }
    }
    if (!service)
        pattern_die("no service after --");

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
