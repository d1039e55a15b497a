/* measured_exec — runs one program and reports its peak memory and wall time.
 *
 *     measured_exec REPORT-FILE PRELOAD PROGRAM [ARGUMENT...]
 *
 * `hakmem bench` starts every measured program through this small launcher. A child's
 * ru_maxrss includes the memory of the process it was forked from (the kernel records the
 * old address space's high-water mark at exec), so a program started directly by the
 * bench tool, a Swift process of ~30 MB, would never report less than that. Forked from
 * this launcher instead, the program starts from a few hundred KiB.
 *
 * PROGRAM gets LD_PRELOAD=PRELOAD (or no LD_PRELOAD when PRELOAD is empty); the launcher
 * itself runs without it. PROGRAM is looked up in PATH. SIGTERM, SIGINT and SIGHUP are
 * forwarded to it, and it is killed if the launcher dies. When it ends, REPORT-FILE gets
 *
 *     status=<wait status> maxrss_kib=<peak resident KiB> seconds=<wall time>
 *
 * and the launcher exits the way PROGRAM did (same exit code, or same signal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child_pid = 0;

static void forward_signal(int signal_number) {
    if (child_pid > 0) kill(child_pid, signal_number);
}

static double now(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (double)time.tv_sec + (double)time.tv_nsec * 1e-9;
}

static void run_child(const char *preload, char **command, pid_t launcher) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != launcher) _exit(127); /* the launcher died before prctl took effect */
    if (preload[0] != '\0') setenv("LD_PRELOAD", preload, 1);
    else unsetenv("LD_PRELOAD");
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    execvp(command[0], command);
    int status = errno == ENOENT ? 127 : 126;
    fprintf(stderr, "measured_exec: %s: %s\n", command[0], strerror(errno));
    _exit(status);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: measured_exec REPORT-FILE PRELOAD PROGRAM [ARGUMENT...]\n");
        return 2;
    }
    const char *report_path = argv[1];
    pid_t launcher = getpid();
    struct sigaction forwarding = {.sa_handler = forward_signal};
    sigemptyset(&forwarding.sa_mask);
    sigaction(SIGTERM, &forwarding, NULL);
    sigaction(SIGINT, &forwarding, NULL);
    sigaction(SIGHUP, &forwarding, NULL);

    double started = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("measured_exec: fork");
        return 2;
    }
    if (pid == 0) run_child(argv[2], argv + 3, launcher);
    child_pid = pid;

    int status = 0;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            perror("measured_exec: wait4");
            return 2;
        }
    }
    double seconds = now() - started;

    char report[128];
    int length = snprintf(report, sizeof report, "status=%d maxrss_kib=%ld seconds=%.6f\n",
                          status, usage.ru_maxrss, seconds);
    int descriptor = open(report_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (descriptor < 0 || write(descriptor, report, (size_t)length) != length) {
        perror("measured_exec: writing the report");
        return 2;
    }
    close(descriptor);

    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
