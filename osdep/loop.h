/*
 * loop.h - the daemon's one event loop: epoll for file descriptors, a
 * min-heap of one-shot timers on the zt_os_now_ms clock, and signals
 * through signalfd (TERM/INT stop, HUP reload, PIPE ignored).
 */
#ifndef ZT_OSDEP_LOOP_H
#define ZT_OSDEP_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define ZT_LOOP_IN 0x1u /* readable (EPOLLIN) */
#define ZT_LOOP_OUT 0x2u /* writable (EPOLLOUT) */
#define ZT_LOOP_ERR 0x4u /* error or hang-up; reported, never asked for */

#define ZT_LOOP_MAX_TIMERS 1024 /* pending at once; the daemon keeps a handful */
#define ZT_LOOP_MAX_EVENTS 64 /* epoll events taken per wake-up */

struct zt_loop;

typedef void (*zt_loop_fd_fn)(void *ctx, int fd, unsigned events);
typedef void (*zt_loop_timer_fn)(void *ctx, uint64_t now_ms);
typedef void (*zt_loop_signal_fn)(void *ctx, int signo);
typedef void (*zt_loop_hook_fn)(void *ctx);

/* A timer handle; 0 is never a live timer. */
typedef uint64_t zt_loop_timer_id;

int zt_loop_new(struct zt_loop **out);
/* Closes the loop's own descriptors (not the registered ones) and restores
 * the signal mask zt_loop_signals changed. */
void zt_loop_free(struct zt_loop *l);

/* One registration per fd; events is ZT_LOOP_IN and/or ZT_LOOP_OUT. */
int zt_loop_add_fd(struct zt_loop *l, int fd, unsigned events, zt_loop_fd_fn fn, void *ctx);
int zt_loop_mod_fd(struct zt_loop *l, int fd, unsigned events);
int zt_loop_del_fd(struct zt_loop *l, int fd);

/* Fire fn once at deadline_ms (zt_os_now_ms clock); timers with equal
 * deadlines fire in the order they were added. *id may be NULL. */
int zt_loop_timer_add(struct zt_loop *l, uint64_t deadline_ms, zt_loop_timer_fn fn, void *ctx,
		      zt_loop_timer_id *id);
/* Cancel a pending timer; ZT_ENOENT if it already fired or was cancelled. */
int zt_loop_timer_cancel(struct zt_loop *l, zt_loop_timer_id id);
/* The earliest pending deadline, or UINT64_MAX when no timer is pending. */
uint64_t zt_loop_next_deadline(const struct zt_loop *l);

/* Take SIGTERM/SIGINT (stop, NULL: zt_loop_stop) and SIGHUP (reload, NULL:
 * ignored) through a signalfd, and ignore SIGPIPE. Blocks those signals in
 * the calling thread: call it before starting other threads. */
int zt_loop_signals(struct zt_loop *l, zt_loop_signal_fn stop, zt_loop_signal_fn reload, void *ctx);

/* One hook run at the start of every round, right before the loop waits
 * (after the previous round's fd callbacks and timers): handlers only queue
 * their sends, the hook flushes them, so no code path can forget to. The
 * hook's own timers are honoured in the wait that follows. NULL removes it. */
void zt_loop_set_before_wait(struct zt_loop *l, zt_loop_hook_fn fn, void *ctx);

/* Wait at most max_wait_ms (-1: until the next timer) and dispatch once. */
int zt_loop_run_once(struct zt_loop *l, int max_wait_ms);
/* Dispatch until zt_loop_stop. */
int zt_loop_run(struct zt_loop *l);
/* Safe from any thread and from a signal handler. */
void zt_loop_stop(struct zt_loop *l);
bool zt_loop_stopped(const struct zt_loop *l);

#endif
