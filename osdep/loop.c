/*
 * loop.c - epoll event loop: a table of fd callbacks indexed by fd, a
 * binary min-heap of one-shot timers keyed (deadline, sequence), a signalfd
 * for TERM/INT/HUP, an eventfd so zt_loop_stop works from anywhere, and one
 * before-wait hook (Redis's beforesleep): handlers queue, the hook flushes.
 * It owns its three descriptors, never the ones registered with it.
 */
#include "osdep/loop.h"
#include "osdep/os.h"
#include "base/zt.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct fd_reg {
	zt_loop_fd_fn fn;
	void *ctx;
	unsigned events;
};

struct timer {
	uint64_t deadline_ms;
	zt_loop_timer_id id; /* also the tie-break: ids grow in insertion order */
	zt_loop_timer_fn fn;
	void *ctx;
};

struct zt_loop {
	int epfd;
	int wakefd;
	int sigfd;
	struct fd_reg *fds;
	int fds_cap;
	struct timer heap[ZT_LOOP_MAX_TIMERS];
	unsigned ntimers;
	zt_loop_timer_id next_id;
	atomic_bool stop;
	zt_loop_signal_fn on_stop;
	zt_loop_signal_fn on_reload;
	void *sig_ctx;
	sigset_t old_mask;
	bool mask_saved;
	zt_loop_hook_fn before_wait;
	void *before_wait_ctx;
};

int zt_loop_new(struct zt_loop **out)
{
	struct zt_loop *l;
	struct epoll_event ev = {.events = EPOLLIN};

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return ZT_ENOMEM;
	l->sigfd = -1;
	l->next_id = 1;
	atomic_init(&l->stop, false);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.fd = l->wakefd;
	if (l->epfd < 0 || l->wakefd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0) {
		zt_log(ZT_LOG_ERROR, "loop: cannot create epoll/eventfd: %s", strerror(errno));
		zt_loop_free(l);
		return ZT_EIO;
	}
	*out = l;
	return 0;
}

void zt_loop_free(struct zt_loop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->mask_saved)
		pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
	free(l->fds);
	free(l);
}

/* ---- file descriptors ---- */

static uint32_t to_epoll(unsigned events)
{
	return ((events & ZT_LOOP_IN) ? EPOLLIN : 0) | ((events & ZT_LOOP_OUT) ? EPOLLOUT : 0);
}

static int grow_fds(struct zt_loop *l, int fd)
{
	struct fd_reg *n;
	int cap = l->fds_cap ? l->fds_cap : 64;

	while (cap <= fd)
		cap *= 2;
	if (cap == l->fds_cap)
		return 0;
	n = realloc(l->fds, (size_t)cap * sizeof(*n));
	if (!n)
		return ZT_ENOMEM;
	memset(n + l->fds_cap, 0, (size_t)(cap - l->fds_cap) * sizeof(*n));
	l->fds = n;
	l->fds_cap = cap;
	return 0;
}

static bool registered(const struct zt_loop *l, int fd)
{
	return fd >= 0 && fd < l->fds_cap && l->fds[fd].fn;
}

int zt_loop_add_fd(struct zt_loop *l, int fd, unsigned events, zt_loop_fd_fn fn, void *ctx)
{
	struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
	int err;

	if (fd < 0 || !fn || fd == l->wakefd || fd == l->sigfd)
		return ZT_EINVAL;
	if (registered(l, fd))
		return ZT_EEXIST;
	err = grow_fds(l, fd);
	if (err)
		return err;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return errno == EPERM ? ZT_EINVAL : ZT_EIO;
	l->fds[fd] = (struct fd_reg){.fn = fn, .ctx = ctx, .events = events};
	return 0;
}

int zt_loop_mod_fd(struct zt_loop *l, int fd, unsigned events)
{
	struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};

	if (!registered(l, fd))
		return ZT_ENOENT;
	if (l->fds[fd].events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return ZT_EIO;
	l->fds[fd].events = events;
	return 0;
}

int zt_loop_del_fd(struct zt_loop *l, int fd)
{
	if (!registered(l, fd))
		return ZT_ENOENT;
	/* The fd may already be closed; the registration goes regardless. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(&l->fds[fd], 0, sizeof(l->fds[fd]));
	return 0;
}

/* ---- timers: a binary min-heap ordered by (deadline, id) ---- */

static bool before(const struct timer *a, const struct timer *b)
{
	if (a->deadline_ms != b->deadline_ms)
		return a->deadline_ms < b->deadline_ms;
	return a->id < b->id;
}

static void swap_timers(struct zt_loop *l, unsigned i, unsigned j)
{
	struct timer t = l->heap[i];

	l->heap[i] = l->heap[j];
	l->heap[j] = t;
}

static void sift_up(struct zt_loop *l, unsigned i)
{
	while (i > 0) {
		unsigned parent = (i - 1) / 2;

		if (!before(&l->heap[i], &l->heap[parent]))
			return;
		swap_timers(l, i, parent);
		i = parent;
	}
}

static void sift_down(struct zt_loop *l, unsigned i)
{
	for (;;) {
		unsigned left = 2 * i + 1, right = left + 1, min = i;

		if (left < l->ntimers && before(&l->heap[left], &l->heap[min]))
			min = left;
		if (right < l->ntimers && before(&l->heap[right], &l->heap[min]))
			min = right;
		if (min == i)
			return;
		swap_timers(l, i, min);
		i = min;
	}
}

static void remove_at(struct zt_loop *l, unsigned i)
{
	l->ntimers--;
	if (i == l->ntimers)
		return;
	l->heap[i] = l->heap[l->ntimers];
	sift_down(l, i);
	sift_up(l, i);
}

int zt_loop_timer_add(struct zt_loop *l, uint64_t deadline_ms, zt_loop_timer_fn fn, void *ctx,
		      zt_loop_timer_id *id)
{
	unsigned i;

	if (!fn)
		return ZT_EINVAL;
	if (l->ntimers == ZT_LOOP_MAX_TIMERS) {
		zt_log(ZT_LOG_ERROR, "loop: more than %d timers pending", ZT_LOOP_MAX_TIMERS);
		return ZT_ENOMEM;
	}
	i = l->ntimers++;
	l->heap[i] = (struct timer){.deadline_ms = deadline_ms, .id = l->next_id++, .fn = fn,
				    .ctx = ctx};
	if (id)
		*id = l->heap[i].id;
	sift_up(l, i);
	return 0;
}

int zt_loop_timer_cancel(struct zt_loop *l, zt_loop_timer_id id)
{
	for (unsigned i = 0; i < l->ntimers; i++) {
		if (l->heap[i].id != id)
			continue;
		remove_at(l, i);
		return 0;
	}
	return ZT_ENOENT;
}

uint64_t zt_loop_next_deadline(const struct zt_loop *l)
{
	return l->ntimers ? l->heap[0].deadline_ms : UINT64_MAX;
}

/* Fire what was due when this round began; timers added by callbacks wait
 * for the next round, so a callback re-arming at `now` cannot spin here. */
static void fire_timers(struct zt_loop *l)
{
	uint64_t now = zt_os_now_ms();
	zt_loop_timer_id limit = l->next_id;

	while (l->ntimers && l->heap[0].deadline_ms <= now && l->heap[0].id < limit) {
		struct timer t = l->heap[0];

		remove_at(l, 0);
		t.fn(t.ctx, now);
	}
}

/* ---- signals and wake-ups ---- */

int zt_loop_signals(struct zt_loop *l, zt_loop_signal_fn stop, zt_loop_signal_fn reload, void *ctx)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct sigaction sa;
	sigset_t set;

	if (l->sigfd >= 0)
		return ZT_EEXIST;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, &l->old_mask) != 0)
		return ZT_EIO;
	l->mask_saved = true;
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return ZT_EIO;
	ev.data.fd = l->sigfd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) < 0)
		return ZT_EIO;
	l->on_stop = stop;
	l->on_reload = reload;
	l->sig_ctx = ctx;
	return 0;
}

static void read_signals(struct zt_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int signo = (int)si.ssi_signo;

		zt_log(ZT_LOG_INFO, "loop: received signal %d", signo);
		if (signo == SIGHUP) {
			if (l->on_reload)
				l->on_reload(l->sig_ctx, signo);
			continue;
		}
		if (l->on_stop)
			l->on_stop(l->sig_ctx, signo);
		else
			zt_loop_stop(l);
	}
}

void zt_loop_stop(struct zt_loop *l)
{
	uint64_t one = 1;
	ssize_t n;

	atomic_store(&l->stop, true);
	n = write(l->wakefd, &one, sizeof(one));
	(void)n; /* a full counter already means "wake up" */
}

bool zt_loop_stopped(const struct zt_loop *l)
{
	return atomic_load(&l->stop);
}

/* ---- dispatch ---- */

static int wait_ms(const struct zt_loop *l, int max_wait_ms)
{
	uint64_t deadline = zt_loop_next_deadline(l), now;
	int ms = max_wait_ms;

	if (atomic_load(&l->stop))
		return 0;
	if (deadline == UINT64_MAX)
		return ms;
	now = zt_os_now_ms();
	if (deadline <= now)
		return 0;
	if (deadline - now < (uint64_t)INT_MAX && (ms < 0 || (int)(deadline - now) < ms))
		ms = (int)(deadline - now);
	return ms;
}

static void dispatch(struct zt_loop *l, const struct epoll_event *ev)
{
	int fd = ev->data.fd;
	unsigned events = 0;
	uint64_t count;

	if (fd == l->wakefd) {
		if (read(l->wakefd, &count, sizeof(count)) < 0)
			return;
		return;
	}
	if (fd == l->sigfd) {
		read_signals(l);
		return;
	}
	/* An earlier callback of this round may have removed it. */
	if (!registered(l, fd))
		return;
	if (ev->events & (EPOLLIN | EPOLLPRI))
		events |= ZT_LOOP_IN;
	if (ev->events & EPOLLOUT)
		events |= ZT_LOOP_OUT;
	if (ev->events & (EPOLLERR | EPOLLHUP))
		events |= ZT_LOOP_ERR | (l->fds[fd].events & ZT_LOOP_IN);
	l->fds[fd].fn(l->fds[fd].ctx, fd, events);
}

void zt_loop_set_before_wait(struct zt_loop *l, zt_loop_hook_fn fn, void *ctx)
{
	l->before_wait = fn;
	l->before_wait_ctx = ctx;
}

int zt_loop_run_once(struct zt_loop *l, int max_wait_ms)
{
	struct epoll_event evs[ZT_LOOP_MAX_EVENTS];
	int n;

	if (l->before_wait)
		l->before_wait(l->before_wait_ctx);
	n = epoll_wait(l->epfd, evs, ZT_LOOP_MAX_EVENTS, wait_ms(l, max_wait_ms));
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		zt_log(ZT_LOG_ERROR, "loop: epoll_wait: %s", strerror(errno));
		return ZT_EIO;
	}
	for (int i = 0; i < n; i++)
		dispatch(l, &evs[i]);
	fire_timers(l);
	return 0;
}

int zt_loop_run(struct zt_loop *l)
{
	int err = 0;

	while (!atomic_load(&l->stop)) {
		err = zt_loop_run_once(l, -1);
		if (err)
			break;
	}
	atomic_store(&l->stop, false);
	return err;
}
