#ifndef VOLUMED_CSYSTEMD_H
#define VOLUMED_CSYSTEMD_H
#include <sys/types.h>

/// Credentials of the peer of a connected Unix socket (SO_PEERCRED). Returns 0 or -errno.
int volumed_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

#endif
