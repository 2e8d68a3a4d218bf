/* The loop timer of the mount workloads (P3, P4): one process does all the file
 * operations, so that process start-up does not count.
 *   fsloop read FILE N REF       opens, reads and closes FILE N times
 *   fsloop write DIR N REF       creates DIR/f00000... (create, write, close): N files
 *   fsloop writesync DIR N REF   the same with an fsync per file
 * Every read must return exactly REF's bytes and every open, write and close must
 * succeed (pk reports a failed durable save at close). Prints the seconds taken and
 * how many operations went wrong. In C because python3 adds about a microsecond to
 * each iteration, which would flatter pk against the ~5 us of tmpfs. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char ref[65536], buf[65536];

int main(int argc, char **argv) {
    if (argc != 5) return 2;
    int syncing = strcmp(argv[1], "writesync") == 0;
    int writing = syncing || strcmp(argv[1], "write") == 0;
    long n = atol(argv[3]), bad = 0;
    int fd = open(argv[4], O_RDONLY);
    ssize_t len = fd < 0 ? -1 : read(fd, ref, sizeof ref);
    if (len < 0) return 2;
    close(fd);
    char path[4096];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        if (writing) {
            snprintf(path, sizeof path, "%s/f%05ld", argv[2], i);
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
            if (fd < 0) { bad++; continue; }
            if (write(fd, ref, len) != len) bad++;
            if (syncing && fsync(fd) != 0) bad++;
        } else {
            fd = open(argv[2], O_RDONLY);
            if (fd < 0) { bad++; continue; }
            if (read(fd, buf, sizeof buf) != len || memcmp(buf, ref, len) != 0) bad++;
        }
        if (close(fd) != 0) bad++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.9f %ld\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, bad);
    return 0;
}
