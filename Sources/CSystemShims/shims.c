#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include "CSystemShims.h"

int csystemshims_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

int csystemshims_set_parent_death_signal(int signo) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signo, 0, 0, 0);
}

int csystemshims_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0, 0, 0);
}

#define MAX_FDS 4

ssize_t csystemshims_send_with_fds(int socket, const void *bytes, size_t length, const int *fds, int count) {
    if (count < 0 || count > MAX_FDS) return -1;
    union { char buffer[CMSG_SPACE(sizeof(int) * MAX_FDS)]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof(control));
    struct iovec vector = { .iov_base = (void *)bytes, .iov_len = length };
    struct msghdr message = { .msg_iov = &vector, .msg_iovlen = 1 };
    if (count > 0) {
        message.msg_control = control.buffer;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    }
    return sendmsg(socket, &message, MSG_NOSIGNAL);
}

ssize_t csystemshims_receive_with_fds(int socket, void *bytes, size_t length, int *fds, int capacity, int *received) {
    *received = 0;
    if (capacity < 0 || capacity > MAX_FDS) return -1;
    union { char buffer[CMSG_SPACE(sizeof(int) * MAX_FDS)]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof(control));
    struct iovec vector = { .iov_base = bytes, .iov_len = length };
    struct msghdr message = { .msg_iov = &vector, .msg_iovlen = 1,
                              .msg_control = control.buffer, .msg_controllen = sizeof(control.buffer) };
    ssize_t result = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    if (result < 0) return result;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int incoming[MAX_FDS];
        if (count > MAX_FDS) count = MAX_FDS;
        memcpy(incoming, CMSG_DATA(header), sizeof(int) * count);
        for (int i = 0; i < count; i++) {
            if (*received < capacity && !(message.msg_flags & MSG_CTRUNC)) fds[(*received)++] = incoming[i];
            else close(incoming[i]);
        }
    }
    if (message.msg_flags & MSG_CTRUNC) {
        for (int i = 0; i < *received; i++) close(fds[i]);
        *received = 0;
    }
    return result;
}

int csystemshims_malloc_single_arena(void) { return mallopt(M_ARENA_MAX, 1); }

int csystemshims_malloc_trim(void) { return malloc_trim(0); }

/* Where the main arena's top chunk starts: it ends at the program break. */
static char *top_start(void) {
    return (char *)sbrk(0) - mallinfo2().keepcost;
}

/* Allocates chunks of `size` until one comes from the top (or from mmap,
   above it), and keeps them all: freeing a small one would only put it
   back in the thread cache, a hole again. */
static size_t take_holes_of(size_t size, int most) {
    size_t taken = 0;
    for (int i = 0; i < most; i++) {
        char *top = top_start();
        char *chunk = malloc(size);
        if (chunk == NULL) break;
        taken += size;
        if (chunk >= top) break;
    }
    return taken;
}

size_t csystemshims_malloc_fill_holes(void) {
    size_t taken = 0;
    /* The thread cache first (at most 7 chunks of each small size), then
       the bins from the largest pieces down. */
    for (size_t size = 24; size <= 1032; size += 16) taken += take_holes_of(size, 7);
    malloc_trim(0);
    for (size_t size = (size_t)64 << 10; size >= 32; size /= 2) taken += take_holes_of(size - 2 * sizeof(size_t), 1 << 16);
    return taken;
}

int csystemshims_release_unused_stack(void) {
    pthread_attr_t attributes;
    void *low;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0) return -1;
    int got = pthread_attr_getstack(&attributes, &low, &size);
    pthread_attr_destroy(&attributes);
    if (got != 0) return -1;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)low + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)__builtin_frame_address(0) - 8192) & ~(page - 1);
    if (end <= start) return 0;
    return madvise((void *)start, end - start, MADV_DONTNEED);
}

int csystemshims_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int csystemshims_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t key) {
    struct epoll_event event = { .events = events, .data = { .u64 = key } };
    return epoll_ctl(epfd, op, fd, &event);
}

int csystemshims_epoll_wait(int epfd, uint64_t *keys, uint32_t *events, int capacity, int timeout_ms) {
    struct epoll_event ready[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epfd, ready, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        keys[i] = ready[i].data.u64;
        events[i] = ready[i].events;
    }
    return count;
}
