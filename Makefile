# segment: built with PGXS.  `make && make install`, then `make installcheck`
# against a running server (scripts/test.sh does all of it on a throw-away
# cluster).

EXTENSION = segment
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = segment
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/rule/*.c)))

# The install script is one file built from the parts in src/sql, in order.
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
INSTALL_PARTS = $(sort $(wildcard src/sql/*.sql))

REGRESS = $(shell sed -n 's/^test: *//p' test/regress_schedule)
REGRESS_OPTS = --load-extension=plpgsql

ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=output_iso

TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies (without --enable-depend): a changed
# struct must rebuild every object that sees it.
$(OBJS): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/rule/*.h)

# An extension script must create what it means to, never adopt an object
# someone made first (CVE-2022-2625): no CREATE OR REPLACE, no IF NOT EXISTS.
$(DATA_built): $(INSTALL_PARTS) $(EXTENSION).control
	@if grep -n -i -E 'or[[:space:]]+replace|if[[:space:]]+not[[:space:]]+exists' $(INSTALL_PARTS); then \
		echo 'segment: the install script must not use CREATE OR REPLACE or IF NOT EXISTS (CVE-2022-2625)' >&2; \
		exit 1; \
	fi
	cat $(INSTALL_PARTS) > $@
