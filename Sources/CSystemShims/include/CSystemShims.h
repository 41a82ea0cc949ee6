#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H
/* Linux calls that Swift's Glibc module does not import (they need
   _GNU_SOURCE or are variadic). */
int csystemshims_pipe2(int fds[2], int flags);
int csystemshims_set_parent_death_signal(int signo);
#endif
