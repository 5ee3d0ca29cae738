/* bench_idle.c - opens N keep-alive HTTP connections to 127.0.0.1:PORT,
 * sends one "GET /healthz" on each and reads its answer (so each is a
 * served, idle keep-alive connection, not a half-open one), prints
 * "open N" and holds them until its standard input closes. For the memory
 * figures of ops/bench (raise ulimit -n first).
 *
 *   bench_idle PORT N */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char REQ[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    int n = 0, open_n = 0;
    char buf[4096], c = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: bench_idle PORT N\n");
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    n = atoi(argv[2]);
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ssize_t got = 0;

        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            fprintf(stderr, "bench_idle: connection %d: %s\n", i, strerror(errno));
            break;
        }
        if (write(fd, REQ, sizeof REQ - 1) != (ssize_t)(sizeof REQ - 1)) {
            fprintf(stderr, "bench_idle: connection %d: write failed\n", i);
            break;
        }
        /* The answer is small and comes in one segment on loopback. */
        got = read(fd, buf, sizeof buf - 1);
        if (got <= 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0) {
            fprintf(stderr, "bench_idle: connection %d: no 200 answer\n", i);
            break;
        }
        open_n++;
    }
    printf("open %d\n", open_n);
    fflush(stdout);
    while (read(0, &c, 1) > 0)
        ;
    return open_n == n ? 0 : 1;
}
