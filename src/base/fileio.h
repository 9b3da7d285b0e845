/* fileio: small POSIX file helpers shared by the persistence layers (MQTT store, WAL).
 *   te_write_all(fd, p, n)   write every byte (retrying short writes and EINTR); 0 or -1 (errno set) */
#ifndef TE_BASE_FILEIO_H
#define TE_BASE_FILEIO_H
#include <stddef.h>
int te_write_all(int fd, const void *p, size_t n);
#endif
