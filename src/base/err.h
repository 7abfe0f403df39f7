/*
 * err.h - the one error convention: int 0 on success, a negative ZT_E* code
 * on failure. One table (err.c) gives each code its text and the HTTP status
 * an API answers with; nothing else maps codes.
 */
#ifndef ZT_BASE_ERR_H
#define ZT_BASE_ERR_H

enum zt_err {
	ZT_OK = 0,
	ZT_EINVAL = -1,    /* bad argument or malformed input */
	ZT_ENOMEM = -2,    /* allocation failed or a fixed pool is exhausted */
	ZT_ECRYPTO = -3,   /* the crypto library failed */
	ZT_EAUTH = -4,     /* authentication (tag, signature, MAC) failed */
	ZT_ETRUNC = -5,    /* input shorter than its fields say */
	ZT_ETOOBIG = -6,   /* input longer than a named maximum */
	ZT_EREPLAY = -7,   /* counter already seen or outside the window */
	ZT_ENOENT = -8,    /* no such thing */
	ZT_EEXIST = -9,    /* already exists */
	ZT_EAGAIN = -10,   /* not yet: incomplete, or waiting on something */
	ZT_ERATE = -11,    /* refused by a rate limit */
	ZT_EIO = -12,      /* an OS-level I/O error (host side only) */
	ZT_ESTATE = -13,   /* not valid in the current state */
	ZT_EVERSION = -14, /* unknown protocol or format version */
	ZT_ETIMEDOUT = -15,/* a deadline passed */
	ZT_EPARSE = -16,   /* text could not be parsed */
	ZT_EPERM = -17,    /* not allowed */
};

const char *zt_strerror(int err);
/* The HTTP status an API answers a failed call with (500 for codes without one). */
int zt_err_http_status(int err);

#endif
