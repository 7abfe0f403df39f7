/*
 * check_main.h - one main() for every Check test binary: runs the suite the
 * file defines and exits non-zero on any failure. Check prints its summary
 * line ("100%: Checks: N, Failures: 0, Errors: 0"), which tests/run.sh sums.
 */
#ifndef ZT_CHECK_MAIN_H
#define ZT_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define ZT_CHECK_MAIN(suite_fn)                                      \
	int main(void)                                               \
	{                                                            \
		SRunner *sr = srunner_create(suite_fn());            \
		int failed;                                          \
		srunner_set_fork_status(sr, CK_NOFORK);              \
		srunner_run_all(sr, CK_NORMAL);                      \
		failed = srunner_ntests_failed(sr);                  \
		srunner_free(sr);                                    \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;    \
	}

#endif
