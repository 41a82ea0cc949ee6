#ifndef CSYSTEMSHIMS_H
#define CSYSTEMSHIMS_H
#include <stddef.h>
#include <sys/types.h>
/* Linux calls that Swift's Glibc module does not import (they need
   _GNU_SOURCE, are variadic, or use the CMSG_* macros). */
int csystemshims_pipe2(int fds[2], int flags);
int csystemshims_set_parent_death_signal(int signo);
/* Makes the caller adopt its orphaned descendants (PR_SET_CHILD_SUBREAPER). */
int csystemshims_set_child_subreaper(void);
/* One datagram on a SOCK_SEQPACKET socket carrying `count` descriptors
   (SCM_RIGHTS, at most 4). Returns what sendmsg returns. */
ssize_t csystemshims_send_with_fds(int socket, const void *bytes, size_t length, const int *fds, int count);
/* Receives one datagram and up to `capacity` (at most 4) descriptors,
   close-on-exec; `*received` tells how many came. Descriptors of a
   truncated control message are closed and `*received` is 0.
   Returns what recvmsg returns. */
ssize_t csystemshims_receive_with_fds(int socket, void *bytes, size_t length, int *fds, int capacity, int *received);
/* epoll without its packed struct (Swift imports epoll_event awkwardly):
   each descriptor is registered with a 64-bit key, and a wait fills
   parallel arrays of keys and event masks. Events are EPOLLIN/EPOLLOUT... */
#include <stdint.h>
int csystemshims_epoll_create(void);
int csystemshims_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t key);
int csystemshims_epoll_wait(int epfd, uint64_t *keys, uint32_t *events, int capacity, int timeout_ms);
/* glibc malloc tuning (malloc.h is not part of the Glibc module): one
   arena for every thread (M_ARENA_MAX), and giving the heap's free pages
   back to the kernel (malloc_trim). Return what mallopt and malloc_trim return. */
int csystemshims_malloc_single_arena(void);
int csystemshims_malloc_trim(void);
/* Takes, and keeps for good, every free chunk of the main arena below its
   top (and what the calling thread's cache holds), so that the next
   allocations come from fresh pages at the top; costs a few tens of kB of
   the top once. Returns how many bytes it took. */
size_t csystemshims_malloc_fill_holes(void);
/* Gives back to the kernel the pages of the calling thread's stack more
   than 8 kB below the caller's frame: pages a deeper call touched once
   and that would stay dirty. Not for the main thread. Returns what
   madvise returns (0 when there is nothing to give back). */
int csystemshims_release_unused_stack(void);
#endif
