# unit.mk: build rules fragment, included by Makefile.am.
