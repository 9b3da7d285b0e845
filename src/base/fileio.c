/* fileio: see fileio.h. */
#include "base/fileio.h"
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

int te_write_all(int fd, const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
