#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <sys/prctl.h>
#include "CSystemShims.h"

int csystemshims_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

int csystemshims_set_parent_death_signal(int signo) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signo, 0, 0, 0);
}
