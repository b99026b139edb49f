#ifndef VOLUMED_CSYSTEMD_H
#define VOLUMED_CSYSTEMD_H
#include <sys/types.h>
#include <sys/socket.h>

/// `struct ucred`, which Swift cannot see through Glibc: the result of SO_PEERCRED.
typedef struct volumed_ucred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
} volumed_ucred;

static const int VOLUMED_SO_PEERCRED = SO_PEERCRED;

#include <malloc.h>

/// glibc's malloc_trim(0), which Swift cannot see through Glibc: gives the heap's free pages
/// back to the system. Returns 1 when memory was released.
static inline int volumed_release_free_heap(void) { return malloc_trim(0); }

#endif
