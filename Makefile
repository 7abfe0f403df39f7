# zt - plain Makefile. `make` builds the programs, `make test` builds everything
# under ASan+UBSan and runs the whole suite, `make demo` runs the local demo network.
# Both `test` and `demo` install missing Debian packages first (`make deps`).

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
O       ?= build

PKGS     := libcrypto libconfig jansson libmicrohttpd libcurl libpcap sqlite3 libmnl
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASEFLAGS := -std=c11 -D_GNU_SOURCE -g $(WARN) -Isrc -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LWIP_CFLAGS := -I/usr/include/lwip -Iext/lwip
LIBS     := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -llwip -lpthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

SAN_FLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
REL_FLAGS := -O2

# Debian packages the build, the tests, the lab and the demo need.
DEB_PKGS := build-essential pkg-config libssl-dev libpcap-dev liblwip-dev libconfig-dev check \
	libsubunit-dev libmnl-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev libcurl4-openssl-dev \
	iproute2 iptables ethtool libnetfilter-queue-dev tcpdump iperf3 python3 procps psmisc dnsmasq-base busybox conntrack iputils-ping avahi-daemon avahi-utils dbus dbus-daemon util-linux
# Only `make bench` needs these (the established L2 VPN it compares against).
BENCH_PKGS := tinc

# Rooms (see ARCHITECTURE.md): what goes into which archive.
BASE_SRC    := $(wildcard src/base/*.c)
CORE_SRC    := $(wildcard src/*.c) $(wildcard rules/*.c)
OS_SRC      := $(wildcard osdep/*.c) $(wildcard tap/*.c)
CTRL_SRC    := $(wildcard controller/*.c)
SERVICE_SRC := $(wildcard src/service/*.c)
SERVICE_LIB := $(filter-out src/service/ztd.c,$(SERVICE_SRC))
CLI_COMMON  := $(filter-out src/cli/zt-%.c,$(wildcard src/cli/*.c))
CLI_MAINS   := $(wildcard src/cli/zt-*.c)
PROGRAMS    := ztd $(notdir $(CLI_MAINS:.c=))
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
SIM_LIB     := $(filter-out tests/sim/test_%.c,$(wildcard tests/sim/*.c))
SIM_TESTS   := $(wildcard tests/sim/test_*.c)

.PHONY: all san deps test test-run unit sim layering e2e install uninstall clean demo demo-stop bench help

all: $(addprefix $(O)/rel/bin/,$(PROGRAMS))

help:
	@echo "make            build every program into $(O)/rel/bin"
	@echo "make test       install missing packages, build under ASan+UBSan, run unit, simulation and end-to-end tests"
	@echo "make demo       install missing packages, build, run the local demo network (Ctrl-C or 'make demo-stop' ends it)"
	@echo "make install    install the programs into \$$(DESTDIR)\$$(PREFIX)/bin"
	@echo "make layering   check every folder's includes and call circles against its README's May use line"
	@echo "make bench      throughput/latency/CPU/RSS table: zt vs tinc vs the plain underlay"

deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing missing Debian packages:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install packages" >&2; exit 1; fi; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing || exit 1; \
	fi

# ---- object builds: one tree per flavour (rel, san) ----
define flavour
$(O)/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASEFLAGS) $(2) $$(if $$(filter tap/% ext/%,$$<),$$(LWIP_CFLAGS)) -MMD -MP -c $$< -o $$@

$(O)/$(1)/libztcore.a: $$(addprefix $(O)/$(1)/,$$(CORE_SRC:.c=.o))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(O)/$(1)/libztbase.a: $$(addprefix $(O)/$(1)/,$$(BASE_SRC:.c=.o))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(O)/$(1)/libztos.a: $$(addprefix $(O)/$(1)/,$$(OS_SRC:.c=.o))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(O)/$(1)/libztctl.a: $$(addprefix $(O)/$(1)/,$$(CTRL_SRC:.c=.o))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(O)/$(1)/libztsvc.a: $$(addprefix $(O)/$(1)/,$$(SERVICE_LIB:.c=.o))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(O)/$(1)/libztcli.a: $$(addprefix $(O)/$(1)/,$$(CLI_COMMON:.c=.o))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(1)_ARCHIVES := $(O)/$(1)/libztctl.a $(O)/$(1)/libztos.a $(O)/$(1)/libztcore.a $(O)/$(1)/libztbase.a

$(O)/$(1)/bin/ztd: $(O)/$(1)/src/service/ztd.o $(O)/$(1)/libztsvc.a $$($(1)_ARCHIVES)
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) -o $$@ $$^ $$(LIBS)

$(O)/$(1)/bin/zt-%: $(O)/$(1)/src/cli/zt-%.o $(O)/$(1)/libztcli.a $$($(1)_ARCHIVES)
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) -o $$@ $$^ $$(LIBS)
endef

$(eval $(call flavour,rel,$(REL_FLAGS)))
$(eval $(call flavour,san,$(SAN_FLAGS)))

san: $(addprefix $(O)/san/bin/,$(PROGRAMS))

# ---- tests (always sanitized) ----
SAN_ARCHIVES := $(O)/san/libztsvc.a $(O)/san/libztcli.a $(san_ARCHIVES)

$(O)/san/tests/unit/%: $(O)/san/tests/unit/%.o $(SAN_ARCHIVES)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS) $(CHECK_LIBS)

$(O)/san/tests/sim/%: $(O)/san/tests/sim/%.o $(addprefix $(O)/san/,$(SIM_LIB:.c=.o)) $(SAN_ARCHIVES)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS) $(CHECK_LIBS)

UNIT_BINS := $(addprefix $(O)/san/,$(UNIT_SRC:.c=))
SIM_BINS  := $(addprefix $(O)/san/,$(SIM_TESTS:.c=))

test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory test-run

LAYERING := tests/layering.sh tests/layering_selftest.sh

test-run: san $(UNIT_BINS) $(SIM_BINS)
	@O=$(O) sh tests/run.sh $(LAYERING) $(UNIT_BINS) $(SIM_BINS)

# The layering check alone (includes against the READMEs' "May use:" lines,
# call circles from the san objects) and its own test.
layering: san
	@O=$(O) ZT_SKIP_E2E=1 sh tests/run.sh $(LAYERING)

unit: $(UNIT_BINS)
	@O=$(O) ZT_SKIP_E2E=1 sh tests/run.sh $(UNIT_BINS)

sim: $(SIM_BINS)
	@O=$(O) ZT_SKIP_E2E=1 sh tests/run.sh $(SIM_BINS)

e2e: san
	@O=$(O) sh tests/run.sh

demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory san
	@ZT_BIN=$(O)/san/bin bash tests/e2e/demo.sh

demo-stop:
	@bash tests/e2e/demo.sh --stop

bench:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) $(BENCH_PKGS)"
	@$(MAKE) --no-print-directory all
	@ZT_BIN=$(O)/rel/bin BENCH_OUT=$(O)/bench bash tests/bench/bench.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(addprefix $(O)/rel/bin/,$(PROGRAMS)) $(DESTDIR)$(PREFIX)/bin/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(PROGRAMS))

clean:
	rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
