# Install smtpd-tables like a system tool.
#
#   make                    release build, Swift runtime linked statically (runs without a toolchain)
#   make install            into $(DESTDIR)$(PREFIX) (PREFIX defaults to /usr/local)
#   make uninstall          removes exactly what install put there
#   make deb                dist/smtpd-tables_VERSION_ARCH.deb (see packaging/debian/README)
#   make version            prints the version (the one source: Sources/SMTPDTables/Version.swift)
#
# Development builds stay `swift build` / `swift test` in .build; this file builds in .build-release so the
# two never wait on each other's lock.

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
# smtpd 7.6+ runs a proc: table backend `table T NAME:ARG` as PATH_LIBEXEC/table-NAME (Debian:
# /usr/libexec/opensmtpd, so set LIBEXECDIR=/usr/libexec/opensmtpd with PREFIX=/usr; OpenBSD:
# /usr/local/libexec/smtpd). install puts table-idx (`table T idx:/path`) and table-passwd there; set
# PASSWD_HELPER= (empty) to leave out table-passwd where OpenSMTPD's own table-passwd package is installed.
LIBEXECDIR  ?= $(PREFIX)/libexec/opensmtpd
PASSWD_HELPER ?= table-passwd
# Installed names of the drop-ins; the .deb sets SUFFIX=.smtpd-tables to stay beside Debian's (see packaging/).
SUFFIX      ?=

SWIFT       ?= swift
SCRATCH     ?= .build-release
# --static-swift-stdlib links the Swift runtime (and FoundationEssentials, no ICU) into each binary: only
# glibc, libdb, libcrypt and libresolv remain dynamic, all of them in Debian's base or in libdb5.3.
SWIFTFLAGS  ?= -c release --static-swift-stdlib --scratch-path $(SCRATCH)
INSTALL     ?= install
# Stripped at install: the symbol tables are most of a binary's size and nothing at run time reads them.
INSTALL_PROGRAM ?= $(INSTALL) -m 755 -s
VERSION     := $(shell sed -n 's/^ *public static let package = "\(.*\)".*/\1/p' Sources/SMTPDTables/Version.swift)
ARCH        := $(shell dpkg --print-architecture 2>/dev/null || uname -m)

BIN         = $(SCRATCH)/release
GEN         = $(SCRATCH)/generated
PROGRAMS    = makemap newaliases smtpd-tables table-idx table-passwd
MAN8        = man/makemap.8 man/newaliases.8 man/smtpd-tables.8
MAN5        = man/smtpd-tables.5

.PHONY: all build completions install install-libexec uninstall deb version clean
all: build completions

build:
	$(SWIFT) build $(SWIFTFLAGS)

# smtpd-tables' scripts come from swift-argument-parser; makemap's and newaliases' are hand-written (getopt).
completions: build
	mkdir -p $(GEN)
	$(BIN)/smtpd-tables --generate-completion-script bash >$(GEN)/smtpd-tables.bash
	$(BIN)/smtpd-tables --generate-completion-script zsh >$(GEN)/_smtpd-tables
	$(BIN)/smtpd-tables --generate-completion-script fish >$(GEN)/smtpd-tables.fish

install: all install-libexec
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL_PROGRAM) $(BIN)/smtpd-tables $(DESTDIR)$(BINDIR)/smtpd-tables
	$(INSTALL_PROGRAM) $(BIN)/makemap $(DESTDIR)$(SBINDIR)/makemap$(SUFFIX)
	$(INSTALL_PROGRAM) $(BIN)/newaliases $(DESTDIR)$(SBINDIR)/newaliases$(SUFFIX)
	$(INSTALL) -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 man/smtpd-tables.8 $(DESTDIR)$(MANDIR)/man8/smtpd-tables.8
	$(INSTALL) -m 644 man/makemap.8 $(DESTDIR)$(MANDIR)/man8/makemap$(SUFFIX).8
	$(INSTALL) -m 644 man/newaliases.8 $(DESTDIR)$(MANDIR)/man8/newaliases$(SUFFIX).8
	$(INSTALL) -m 644 $(GEN)/smtpd-tables.bash $(DESTDIR)$(BASHCOMPDIR)/smtpd-tables
	$(INSTALL) -m 644 completions/makemap.bash $(DESTDIR)$(BASHCOMPDIR)/makemap
	$(INSTALL) -m 644 completions/newaliases.bash $(DESTDIR)$(BASHCOMPDIR)/newaliases
	$(INSTALL) -m 644 $(GEN)/_smtpd-tables completions/_makemap completions/_newaliases $(DESTDIR)$(ZSHCOMPDIR)/
	$(INSTALL) -m 644 $(GEN)/smtpd-tables.fish completions/makemap.fish completions/newaliases.fish \
	    $(DESTDIR)$(FISHCOMPDIR)/
	# Shells load completions by command name: the suffixed names get links to the same scripts.
	if [ -n "$(SUFFIX)" ]; then for p in makemap newaliases; do \
	    ln -sf $$p $(DESTDIR)$(BASHCOMPDIR)/$$p$(SUFFIX); \
	    ln -sf $$p.fish $(DESTDIR)$(FISHCOMPDIR)/$$p$(SUFFIX).fish; done; fi

# The proc: table helpers smtpd runs (argv[0] the table's name, argv[1] the path).
install-libexec: build
	$(INSTALL) -d $(DESTDIR)$(LIBEXECDIR)
	$(INSTALL_PROGRAM) $(BIN)/table-idx $(DESTDIR)$(LIBEXECDIR)/table-idx
	if [ -n "$(PASSWD_HELPER)" ]; then $(INSTALL_PROGRAM) $(BIN)/table-passwd $(DESTDIR)$(LIBEXECDIR)/$(PASSWD_HELPER); fi

uninstall:
	rm -f $(DESTDIR)$(LIBEXECDIR)/table-idx
	if [ -n "$(PASSWD_HELPER)" ]; then rm -f $(DESTDIR)$(LIBEXECDIR)/$(PASSWD_HELPER); fi
	rm -f $(DESTDIR)$(BINDIR)/smtpd-tables $(DESTDIR)$(SBINDIR)/makemap$(SUFFIX) \
	    $(DESTDIR)$(SBINDIR)/newaliases$(SUFFIX)
	rm -f $(DESTDIR)$(MANDIR)/man5/smtpd-tables.5 $(DESTDIR)$(MANDIR)/man8/smtpd-tables.8 \
	    $(DESTDIR)$(MANDIR)/man8/makemap$(SUFFIX).8 $(DESTDIR)$(MANDIR)/man8/newaliases$(SUFFIX).8
	rm -f $(DESTDIR)$(BASHCOMPDIR)/smtpd-tables $(DESTDIR)$(BASHCOMPDIR)/makemap $(DESTDIR)$(BASHCOMPDIR)/newaliases \
	    $(DESTDIR)$(BASHCOMPDIR)/makemap$(SUFFIX) $(DESTDIR)$(BASHCOMPDIR)/newaliases$(SUFFIX)
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_smtpd-tables $(DESTDIR)$(ZSHCOMPDIR)/_makemap $(DESTDIR)$(ZSHCOMPDIR)/_newaliases
	rm -f $(DESTDIR)$(FISHCOMPDIR)/smtpd-tables.fish $(DESTDIR)$(FISHCOMPDIR)/makemap.fish \
	    $(DESTDIR)$(FISHCOMPDIR)/newaliases.fish $(DESTDIR)$(FISHCOMPDIR)/makemap$(SUFFIX).fish \
	    $(DESTDIR)$(FISHCOMPDIR)/newaliases$(SUFFIX).fish

# A binary package for Debian 12 and 13, beside Debian's opensmtpd (packaging/debian/README explains how).
deb: all
	sh packaging/debian/build-deb "$(VERSION)" "$(ARCH)" "$(SCRATCH)/deb-root" dist

version:
	@echo $(VERSION)

clean:
	rm -rf $(SCRATCH) dist
