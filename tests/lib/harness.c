/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

static const char *required_env(const char *name)
{
    const char *value = getenv(name);
    if (!value || !*value)
        cr_assert_fail("%s is not set: run the tests with 'make check'", name);
    return value;
}

/* The parent's environment without anything that would load or tune the
 * library, plus what the test asks for. */
static char **server_environment(bool preload, const char *const *extra, char *preload_entry)
{
    size_t count = 0;
    while (environ[count])
        count++;
    size_t extra_count = 0;
    while (extra && extra[extra_count])
        extra_count++;
    char **env = calloc(count + extra_count + 2, sizeof *env);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (strncmp(environ[i], "LD_PRELOAD=", 11) == 0 ||
            strncmp(environ[i], "LINGERCLOSE_", 12) == 0)
            continue;
        env[n++] = environ[i];
    }
    if (preload)
        env[n++] = preload_entry;
    for (size_t i = 0; i < extra_count; i++)
        env[n++] = (char *)extra[i];
    env[n] = NULL;
    return env;
}

static void start_program(struct server *s, const char *program, bool preload,
                          const char *const *args, const char *const *env);

void server_start(struct server *s, bool preload, const char *const *args, const char *const *env)
{
    start_program(s, required_env("LC_TESTSERVER"), preload, args, env);
}

void pattern_start(struct server *s, const char *name, bool preload, const char *const *args,
                   const char *const *env)
{
    char program[4096];
    snprintf(program, sizeof program, "%s/%s", required_env("LC_PATTERNS_DIR"), name);
    start_program(s, program, preload, args, env);
}

int count_lines_with(const char *text, const char *needle)
{
    int count = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *hit = strstr(line, needle);
        if (hit && hit < line + len)
            count++;
        line = end ? end + 1 : NULL;
    }
    return count;
}

int count_lines_with_both(const char *text, const char *first, const char *second)
{
    int count = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, len);
        if (strstr(copy, first) && strstr(copy, second))
            count++;
        free(copy);
        line = end ? end + 1 : NULL;
    }
    return count;
}

char *observations(const char *text)
{
    char *out = calloc(1, strlen(text) + 1);
    size_t used = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 4 && strncmp(line, "OBS ", 4) == 0) {
            memcpy(out + used, line + 4, len - 4);
            used += len - 4;
            out[used++] = '\n';
        }
        line = end ? end + 1 : NULL;
    }
    return out;
}

#define MAX_SERVER_ARGS 64

bool server_wrapped(void)
{
    const char *wrapper = getenv("LC_SERVER_WRAPPER");
    return wrapper && wrapper[strspn(wrapper, " \t")];
}

/* A copy of LC_SERVER_WRAPPER to split into words, or NULL. */
static char *server_wrapper(void)
{
    return server_wrapped() ? strdup(getenv("LC_SERVER_WRAPPER")) : NULL;
}

static void start_program(struct server *s, const char *program, bool preload,
                          const char *const *args, const char *const *env)
{
    /* A sanitizer build of the library needs the sanitizer's runtime loaded
     * before it: LC_PRELOAD_FIRST names it. */
    const char *first = getenv("LC_PRELOAD_FIRST");
    char preload_entry[4096];
    snprintf(preload_entry, sizeof preload_entry, "LD_PRELOAD=%s%s%s", first && *first ? first : "",
             first && *first ? ":" : "", required_env("LC_LIBRARY"));

    /* LC_SERVER_WRAPPER (blank-separated words: a tool and its options) runs
     * every server that preloads the library under that tool; make
     * check-valgrind sets it to memcheck. The tool gets the preload in its
     * environment, so it must be a static program (valgrind's tool itself,
     * not its launcher): a dynamic one would load the library as well, and
     * log every complaint twice. */
    const char *argv[MAX_SERVER_ARGS] = { program };
    size_t argc = 0;
    char *wrapper = preload ? server_wrapper() : NULL;
    for (char *save = NULL, *word = wrapper ? strtok_r(wrapper, " \t", &save) : NULL;
         word && argc < MAX_SERVER_ARGS / 2; word = strtok_r(NULL, " \t", &save))
        argv[argc++] = word;
    argv[argc++] = program;
    s->family = AF_INET;
    for (size_t i = 0; args && args[i] && argc < MAX_SERVER_ARGS - 1; i++) {
        argv[argc++] = args[i];
        if (strcmp(args[i], "--ipv6") == 0)
            s->family = AF_INET6;
    }
    argv[argc] = NULL;

    int out[2], in[2];
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
    snprintf(s->stderr_path, sizeof s->stderr_path, "/tmp/lc-test-stderr.XXXXXX");
    int err_fd = mkstemp(s->stderr_path);
    cr_assert_geq(err_fd, 0);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
    char **envp = server_environment(preload, env, preload_entry);
    int rc = posix_spawnp(&s->pid, argv[0], &actions, NULL, (char *const *)argv, envp);
    free(envp);
    free(wrapper);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(in[0]);
    s->stdin_fd = in[1];
    close(err_fd);
    cr_assert_eq(rc, 0, "posix_spawn %s: %s", program, strerror(rc));

    char line[64] = { 0 };
    size_t used = 0;
    while (used < sizeof line - 1 && !strchr(line, '\n')) {
        ssize_t n = read(out[0], line + used, sizeof line - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    close(out[0]);
    s->port = parse_listening(line);
    cr_assert(s->port >= 0, "server did not start: '%s' %s", line, server_stderr(s));
}

int server_wait(struct server *s, int timeout_ms)
{
    if (s->stdin_fd >= 0) {
        close(s->stdin_fd);
        s->stdin_fd = -1;
    }
    long long deadline = now_ms() + timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid)
            break;
        if (now_ms() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            return -1;
        }
        sleep_ms(10);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *server_stderr(const struct server *s)
{
    FILE *f = fopen(s->stderr_path, "r");
    char *text = calloc(1, 1 << 20);
    if (f) {
        size_t n = fread(text, 1, (1 << 20) - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    return text;
}

int server_thread_count(const struct server *s)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)s->pid);
    return (int)count_entries(path);
}

/* Far more than any test's response: a reply this long is wrong anyway. */
#define REPLY_KEEP (64u << 20)

int client_connect(int family, int port)
{
    int fd = connect_loopback(family, port, 20);
    cr_assert_geq(fd, 0, "connect: %s", strerror(errno));
    return fd;
}

int client_send(int fd, const void *buf, size_t len)
{
    return send_all(fd, buf, len);
}

void client_read_reply(int fd, struct reply *r)
{
    read_reply(fd, REPLY_KEEP, r);
}

void client_upload(int family, int port, size_t body_bytes, struct reply *r)
{
    int fd = client_connect(family, port);
    client_upload_over(fd, body_bytes, r);
    close(fd);
}

void client_upload_over(int fd, size_t body_bytes, struct reply *r)
{
    char head[256];
    snprintf(head, sizeof head, "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: %zu\r\n\r\n",
             body_bytes);
    size_t chunk = body_bytes / 3;
    if (chunk < 1024)
        chunk = 1024;
    if (chunk > 65536)
        chunk = 65536;
    upload(fd, head, body_bytes, chunk, REPLY_KEEP, r);
}

bool reply_is_early_error(const struct reply *r)
{
    return !r->write_errno && !r->read_errno && r->data && r->len == strlen(EARLY_ERROR_RESPONSE) &&
           memcmp(r->data, EARLY_ERROR_RESPONSE, r->len) == 0;
}

bool reply_is_sized(const struct reply *r, size_t size)
{
    if (r->write_errno || r->read_errno || !r->data)
        return false;
    char head[128];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n", size);
    if (r->len != (size_t)n + size || memcmp(r->data, head, (size_t)n) != 0)
        return false;
    for (size_t i = 0; i < size; i++)
        if (r->data[(size_t)n + i] != (char)('a' + (i % 65536) % 26))
            return false;
    return true;
}

long server_side_inode(int server_port, int client_port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        return -1;
    char line[512];
    long inode = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned local_port_hex, remote_port_hex;
        unsigned long ino;
        if (sscanf(line, " %*d: %*x:%x %*x:%x %*x %*x:%*x %*x:%*x %*x %*u %*u %lu",
                   &local_port_hex, &remote_port_hex, &ino) == 3 &&
            (int)local_port_hex == server_port && (int)remote_port_hex == client_port) {
            inode = (long)ino;
            break;
        }
    }
    fclose(f);
    return inode;
}

bool kernel_has_close_range(void)
{
    /* A range no descriptor is in: closes nothing where the call exists. */
    return syscall(436 /* close_range, the same number on every architecture */, ~0u, ~0u, 0) == 0 ||
           errno != ENOSYS;
}
