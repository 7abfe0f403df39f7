#!/bin/sh
# tests/layering.sh - the layering check of `make test`: every folder's includes
# against the "May use:" line of its README, and no wide call circle between
# two .c files (nm on $O/san, so build `make san` first). The logic is in
# tests/layering.py, the deliberate exceptions in tests/layering.allow, and
# tests/layering_selftest.sh proves the check catches what it claims to.
cd "$(dirname "$0")/.." || exit 1
exec python3 tests/layering.py --objdir "${O:-build}/san" "$@"
