/*
 * os.c - CSPRNG, clock and atomic file I/O for the daemon and CLI programs.
 * Owns nothing long-lived; sockets and the event loop live in their own files.
 */
#include "osdep/os.h"
#include "base/zt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void zt_os_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)ctx;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fatal: getrandom: %s\n", strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

uint64_t zt_os_now_ms(void)
{
	static uint64_t base_ms;
	static uint64_t mono_base_ms;
	struct timespec ts;
	uint64_t mono;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (base_ms == 0) {
		struct timespec rt;
		clock_gettime(CLOCK_REALTIME, &rt);
		base_ms = (uint64_t)rt.tv_sec * 1000 + (uint64_t)rt.tv_nsec / 1000000;
		mono_base_ms = mono;
	}
	return base_ms + (mono - mono_base_ms);
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ZT_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	if (strlen(path) >= sizeof(dir))
		return;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	fsync(fd);
	close(fd);
}

int zt_os_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return ZT_ETOOBIG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return ZT_EIO;
	/* The umask may have narrowed the mode; set exactly what was asked. */
	err = fchmod(fd, mode) < 0 ? ZT_EIO : write_all(fd, data, len);
	if (!err && fsync(fd) < 0)
		err = ZT_EIO;
	if (close(fd) < 0 && !err)
		err = ZT_EIO;
	if (!err && rename(tmp, path) < 0)
		err = ZT_EIO;
	if (err) {
		unlink(tmp);
		return err;
	}
	fsync_dir_of(path);
	return 0;
}

int zt_os_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? ZT_ENOENT : ZT_EIO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ZT_EIO;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return ZT_ETOOBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return ZT_ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int zt_os_mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];

	if (strlen(path) >= sizeof(tmp))
		return ZT_ETOOBIG;
	strcpy(tmp, path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return ZT_EIO;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return ZT_EIO;
	return 0;
}
