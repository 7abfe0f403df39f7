/*
 * test_loop.c - osdep/loop.c: timers fire in deadline order (ties in
 * insertion order) and can be cancelled, fd callbacks fire and can be
 * changed or removed, signals stop or reload, zt_loop_stop works from a thread,
 * and the before-wait hook runs once per round, after the handlers of the
 * previous round and before the wait (where the daemon flushes its sends).
 */
#include "check_main.h"
#include "osdep/loop.h"
#include "osdep/os.h"
#include "base/zt.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int order[16];
static int n_order;

static void record(void *ctx, uint64_t now_ms)
{
	order[n_order++] = (int)(intptr_t)ctx;
}

static void stop_when_done(void *ctx, uint64_t now_ms)
{
	zt_loop_stop(ctx);
}

START_TEST(timers_fire_in_deadline_order)
{
	struct zt_loop *l;
	uint64_t now = zt_os_now_ms();

	ck_assert_int_eq(zt_loop_new(&l), 0);
	n_order = 0;
	ck_assert_int_eq(zt_loop_timer_add(l, now + 30, record, (void *)3, NULL), 0);
	ck_assert_int_eq(zt_loop_timer_add(l, now + 10, record, (void *)1, NULL), 0);
	ck_assert_int_eq(zt_loop_timer_add(l, now + 20, record, (void *)2, NULL), 0);
	ck_assert_int_eq(zt_loop_timer_add(l, now + 20, record, (void *)22, NULL), 0); /* tie */
	ck_assert_int_eq(zt_loop_timer_add(l, now, record, (void *)0, NULL), 0);
	ck_assert_int_eq(zt_loop_timer_add(l, now + 40, stop_when_done, l, NULL), 0);
	ck_assert_uint_eq(zt_loop_next_deadline(l), now);
	ck_assert_int_eq(zt_loop_run(l), 0);
	ck_assert_int_eq(n_order, 5);
	ck_assert_int_eq(order[0], 0);
	ck_assert_int_eq(order[1], 1);
	ck_assert_int_eq(order[2], 2);
	ck_assert_int_eq(order[3], 22);
	ck_assert_int_eq(order[4], 3);
	ck_assert_uint_ge(zt_os_now_ms(), now + 40); /* slept, did not fire early */
	ck_assert_uint_eq(zt_loop_next_deadline(l), UINT64_MAX);
	zt_loop_free(l);
}
END_TEST

START_TEST(cancelled_timer_does_not_fire)
{
	struct zt_loop *l;
	zt_loop_timer_id a, b;
	uint64_t now = zt_os_now_ms();

	ck_assert_int_eq(zt_loop_new(&l), 0);
	n_order = 0;
	ck_assert_int_eq(zt_loop_timer_add(l, now + 5, record, (void *)1, &a), 0);
	ck_assert_int_eq(zt_loop_timer_add(l, now + 10, record, (void *)2, &b), 0);
	ck_assert_int_eq(zt_loop_timer_add(l, now + 20, stop_when_done, l, NULL), 0);
	ck_assert_int_eq(zt_loop_timer_cancel(l, a), 0);
	ck_assert_int_eq(zt_loop_timer_cancel(l, a), ZT_ENOENT);
	ck_assert_int_eq(zt_loop_run(l), 0);
	ck_assert_int_eq(n_order, 1);
	ck_assert_int_eq(order[0], 2);
	ck_assert_int_eq(zt_loop_timer_cancel(l, b), ZT_ENOENT); /* already fired */
	zt_loop_free(l);
}
END_TEST

static void rearm_at_now(void *ctx, uint64_t now_ms)
{
	struct zt_loop *l = ctx;

	n_order++;
	zt_loop_timer_add(l, now_ms, rearm_at_now, l, NULL);
}

START_TEST(timer_rearming_at_now_does_not_starve_the_loop)
{
	struct zt_loop *l;

	ck_assert_int_eq(zt_loop_new(&l), 0);
	n_order = 0;
	ck_assert_int_eq(zt_loop_timer_add(l, 0, rearm_at_now, l, NULL), 0);
	ck_assert_int_eq(zt_loop_run_once(l, 0), 0);
	ck_assert_int_eq(n_order, 1); /* one round, one firing: control came back */
	ck_assert_int_eq(zt_loop_run_once(l, 0), 0);
	ck_assert_int_eq(n_order, 2);
	zt_loop_free(l);
}
END_TEST

START_TEST(timer_table_has_a_bound)
{
	struct zt_loop *l;
	int i, err = 0;

	ck_assert_int_eq(zt_loop_new(&l), 0);
	for (i = 0; i <= ZT_LOOP_MAX_TIMERS && !err; i++)
		err = zt_loop_timer_add(l, UINT64_MAX - 1, record, NULL, NULL);
	ck_assert_int_eq(err, ZT_ENOMEM);
	ck_assert_int_eq(i, ZT_LOOP_MAX_TIMERS + 1);
	zt_loop_free(l);
}
END_TEST

struct fd_probe {
	struct zt_loop *l;
	int calls;
	unsigned events;
};

static void on_fd(void *ctx, int fd, unsigned events)
{
	struct fd_probe *p = ctx;
	uint64_t v;

	p->calls++;
	p->events = events;
	if (events & ZT_LOOP_IN)
		ck_assert_int_eq(read(fd, &v, sizeof(v)), sizeof(v));
	zt_loop_stop(p->l);
}

START_TEST(fd_callback_fires_on_readable)
{
	struct zt_loop *l;
	struct fd_probe p = {0};
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t one = 1;

	ck_assert_int_ge(efd, 0);
	ck_assert_int_eq(zt_loop_new(&l), 0);
	p.l = l;
	ck_assert_int_eq(zt_loop_add_fd(l, efd, ZT_LOOP_IN, on_fd, &p), 0);
	ck_assert_int_eq(zt_loop_add_fd(l, efd, ZT_LOOP_IN, on_fd, &p), ZT_EEXIST);
	ck_assert_int_eq(zt_loop_run_once(l, 0), 0);
	ck_assert_int_eq(p.calls, 0); /* nothing to read yet */
	ck_assert_int_eq(write(efd, &one, sizeof(one)), sizeof(one));
	ck_assert_int_eq(zt_loop_run(l), 0);
	ck_assert_int_eq(p.calls, 1);
	ck_assert_uint_eq(p.events, ZT_LOOP_IN);
	/* Ask for writability instead: an eventfd is always writable. */
	ck_assert_int_eq(zt_loop_mod_fd(l, efd, ZT_LOOP_OUT), 0);
	ck_assert_int_eq(zt_loop_run(l), 0);
	ck_assert_int_eq(p.calls, 2);
	ck_assert_uint_eq(p.events, ZT_LOOP_OUT);
	/* Removed: no more callbacks. */
	ck_assert_int_eq(zt_loop_del_fd(l, efd), 0);
	ck_assert_int_eq(zt_loop_del_fd(l, efd), ZT_ENOENT);
	ck_assert_int_eq(zt_loop_mod_fd(l, efd, ZT_LOOP_IN), ZT_ENOENT);
	ck_assert_int_eq(zt_loop_run_once(l, 10), 0);
	ck_assert_int_eq(p.calls, 2);
	zt_loop_free(l);
	close(efd);
}
END_TEST

struct hook_probe {
	int hook_calls;
	int fd_calls_seen_by_hook[4];
	int fd_calls;
	struct zt_loop *l;
	int efd;
};

static void hook_fn(void *ctx)
{
	struct hook_probe *h = ctx;

	if (h->hook_calls < 4)
		h->fd_calls_seen_by_hook[h->hook_calls] = h->fd_calls;
	h->hook_calls++;
}

static void hook_fd(void *ctx, int fd, unsigned events)
{
	struct hook_probe *h = ctx;
	uint64_t v;

	h->fd_calls++;
	if (read(fd, &v, sizeof(v)) < 0)
		return;
}

START_TEST(before_wait_hook_runs_once_per_round_after_handlers)
{
	struct hook_probe h = {0};
	uint64_t one = 1;

	h.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(h.efd, 0);
	ck_assert_int_eq(zt_loop_new(&h.l), 0);
	zt_loop_set_before_wait(h.l, hook_fn, &h);
	ck_assert_int_eq(zt_loop_add_fd(h.l, h.efd, ZT_LOOP_IN, hook_fd, &h), 0);
	ck_assert_int_eq(write(h.efd, &one, sizeof(one)), sizeof(one));
	ck_assert_int_eq(zt_loop_run_once(h.l, 0), 0); /* hook, then the fd */
	ck_assert_int_eq(zt_loop_run_once(h.l, 0), 0); /* hook sees that fd call */
	ck_assert_int_eq(h.hook_calls, 2);
	ck_assert_int_eq(h.fd_calls, 1);
	ck_assert_int_eq(h.fd_calls_seen_by_hook[0], 0);
	ck_assert_int_eq(h.fd_calls_seen_by_hook[1], 1);
	zt_loop_set_before_wait(h.l, NULL, NULL);
	ck_assert_int_eq(zt_loop_run_once(h.l, 0), 0);
	ck_assert_int_eq(h.hook_calls, 2);
	zt_loop_free(h.l);
	close(h.efd);
}
END_TEST

struct pair_probe {
	struct zt_loop *l;
	int fds[2];
	int calls;
};

/* Each callback removes the other fd: the second must not be called. */
static void on_pair(void *ctx, int fd, unsigned events)
{
	struct pair_probe *p = ctx;

	p->calls++;
	zt_loop_del_fd(p->l, fd == p->fds[0] ? p->fds[1] : p->fds[0]);
}

START_TEST(fd_removed_by_an_earlier_callback_is_not_called)
{
	struct zt_loop *l;
	struct pair_probe p = {0};
	uint64_t one = 1;

	ck_assert_int_eq(zt_loop_new(&l), 0);
	p.l = l;
	for (int i = 0; i < 2; i++) {
		p.fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ck_assert_int_eq(write(p.fds[i], &one, sizeof(one)), sizeof(one));
		ck_assert_int_eq(zt_loop_add_fd(l, p.fds[i], ZT_LOOP_IN, on_pair, &p), 0);
	}
	ck_assert_int_eq(zt_loop_run_once(l, 100), 0);
	ck_assert_int_eq(p.calls, 1);
	zt_loop_free(l);
	close(p.fds[0]);
	close(p.fds[1]);
}
END_TEST

static void *stop_later(void *arg)
{
	usleep(50000);
	zt_loop_stop(arg);
	return NULL;
}

START_TEST(stop_from_another_thread_wakes_the_loop)
{
	struct zt_loop *l;
	pthread_t t;
	uint64_t start = zt_os_now_ms();

	ck_assert_int_eq(zt_loop_new(&l), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, stop_later, l), 0);
	ck_assert_int_eq(zt_loop_run(l), 0); /* no fds, no timers: only the stop wakes it */
	pthread_join(t, NULL);
	ck_assert_uint_lt(zt_os_now_ms() - start, 5000);
	ck_assert(!zt_loop_stopped(l)); /* the stop was consumed by run */
	zt_loop_free(l);
}
END_TEST

static int stops, reloads, last_signo;

static void on_stop(void *ctx, int signo)
{
	stops++;
	last_signo = signo;
	zt_loop_stop(ctx);
}

static void on_reload(void *ctx, int signo)
{
	reloads++;
}

static void send_hup_then_term(void *ctx, uint64_t now_ms)
{
	kill(getpid(), SIGHUP);
	kill(getpid(), SIGPIPE); /* ignored: must not kill the test */
	kill(getpid(), SIGTERM);
}

START_TEST(sigterm_stops_and_sighup_reloads)
{
	struct zt_loop *l;

	ck_assert_int_eq(zt_loop_new(&l), 0);
	stops = reloads = 0;
	ck_assert_int_eq(zt_loop_signals(l, on_stop, on_reload, l), 0);
	ck_assert_int_eq(zt_loop_signals(l, on_stop, on_reload, l), ZT_EEXIST);
	ck_assert_int_eq(zt_loop_timer_add(l, zt_os_now_ms(), send_hup_then_term, l, NULL), 0);
	ck_assert_int_eq(zt_loop_run(l), 0);
	ck_assert_int_eq(reloads, 1);
	ck_assert_int_eq(stops, 1);
	ck_assert_int_eq(last_signo, SIGTERM);
	zt_loop_free(l); /* restores the signal mask */
	signal(SIGPIPE, SIG_DFL);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");

	tcase_add_test(tc, timers_fire_in_deadline_order);
	tcase_add_test(tc, cancelled_timer_does_not_fire);
	tcase_add_test(tc, timer_rearming_at_now_does_not_starve_the_loop);
	tcase_add_test(tc, timer_table_has_a_bound);
	tcase_add_test(tc, fd_callback_fires_on_readable);
	tcase_add_test(tc, fd_removed_by_an_earlier_callback_is_not_called);
	tcase_add_test(tc, stop_from_another_thread_wakes_the_loop);
	tcase_add_test(tc, sigterm_stops_and_sighup_reloads);
	tcase_add_test(tc, before_wait_hook_runs_once_per_round_after_handlers);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(loop_suite)
