/* sl_cmdtab.c — see sl_cmdtab.h: the rows, generated from SL_CMDTAB_LIST. */
#include "sl_cmdtab.h"

#include <string.h>

#define SL_CMDTAB_EXPAND(...) __VA_ARGS__
#define SL_CMDTAB_ROW(ID, id, name, flags, wait_s, help, args)                                     \
	[SL_CMDTAB_##                                                                              \
	    ID] = {SL_CMDTAB_##ID, name, flags,                                                    \
	           wait_s,         help, {SL_CMDTAB_EXPAND args{NULL, SL_CMDTAB_ARG_INT, false}}},

const sl_cmdtab_t sl_cmdtab[SL_CMDTAB_CNT] = {SL_CMDTAB_LIST(SL_CMDTAB_ROW)};

const sl_cmdtab_arg_t sl_cmdtab_op_args[3] = {SL_CMDTAB_ARG(deadline_ms, INT, false) SL_CMDTAB_ARG(
    wait, BOOL, false){NULL, SL_CMDTAB_ARG_INT, false}};

const sl_cmdtab_t *sl_cmdtab_find(const char *name)
{
	for (size_t i = 0; i < SL_CMDTAB_CNT; i++)
		if (strcmp(sl_cmdtab[i].name, name) == 0)
			return &sl_cmdtab[i];
	return NULL;
}

static const sl_cmdtab_arg_t *cmdtab_arg_in(const sl_cmdtab_arg_t *a, const char *key, size_t len)
{
	for (; a->key != NULL; a++)
		if (strlen(a->key) == len && strncmp(a->key, key, len) == 0)
			return a;
	return NULL;
}

const sl_cmdtab_arg_t *sl_cmdtab_arg(const sl_cmdtab_t *c, const char *key, size_t len)
{
	const sl_cmdtab_arg_t *a = cmdtab_arg_in(c->args, key, len);
	if (a == NULL && (c->flags & SL_CMDTAB_F_OP) != 0)
		a = cmdtab_arg_in(sl_cmdtab_op_args, key, len);
	return a;
}
