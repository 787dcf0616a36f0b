/* sl_complete.c — shell completion candidates for sluicectl (see
   sl_complete.h). */
#include "sl_complete.h"

#include <string.h>

#include "sl_cmdtab.h"
#include "sl_watch.h"

static const char *const sl_complete_opts[] = {"--socket", "--config",  "--json", "--timeout",
                                               "--tx",     "--version", "--help"};

/* sl_complete_takes_value: an option whose value is the next word. */
static bool sl_complete_takes_value(const char *w)
{
	static const char *const v[] = {"-s", "--socket",  "-c", "--config",
	                                "-t", "--timeout", "-x", "--tx"};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (strcmp(w, v[i]) == 0)
			return true;
	return false;
}

/* sl_complete_given: whether key= is among words[0..n). */
static bool sl_complete_given(int n, char **words, const char *key)
{
	size_t k = strlen(key);
	for (int i = 0; i < n; i++)
		if (strncmp(words[i], key, k) == 0 && words[i][k] == '=')
			return true;
	return false;
}

/* sl_complete_value: the known values of argument a (cur is "key=..."). */
static void sl_complete_value(FILE *out, const sl_cmdtab_arg_t *a)
{
	if (a->type == SL_CMDTAB_ARG_BOOL) {
		fprintf(out, "%s=true\n%s=false\n", a->key, a->key);
	} else if (strcmp(a->key, "topics") == 0) {
#define SL_COMPLETE_TOPIC(ID, name) fprintf(out, "%s=%s\n", a->key, name);
		SL_WATCH_TOPIC_LIST(SL_COMPLETE_TOPIC)
#undef SL_COMPLETE_TOPIC
	}
}

/* sl_complete_args: key= of c's arguments not given yet in words[0..n). */
static void sl_complete_args(FILE *out, const sl_cmdtab_t *c, int n, char **words)
{
	const char *cur = words[n - 1];
	const char *eq = strchr(cur, '=');
	if (eq != NULL) {
		const sl_cmdtab_arg_t *a = sl_cmdtab_arg(c, cur, (size_t)(eq - cur));
		if (a != NULL)
			sl_complete_value(out, a);
		return;
	}
	for (const sl_cmdtab_arg_t *a = c->args; a->key != NULL; a++)
		if (!sl_complete_given(n - 1, words, a->key))
			fprintf(out, "%s=\n", a->key);
	for (const sl_cmdtab_arg_t *a = sl_cmdtab_op_args; (c->flags & SL_CMDTAB_F_OP) && a->key;
	     a++)
		if (!sl_complete_given(n - 1, words, a->key))
			fprintf(out, "%s=\n", a->key);
}

void sl_complete_print(FILE *out, int n, char **words)
{
	if (n <= 0)
		return;
	const char *cur = words[n - 1];
	for (int i = 0; i < n - 1; i++) {
		if (sl_complete_takes_value(words[i])) {
			i++;
			continue;
		}
		if (words[i][0] == '-')
			continue;
		const sl_cmdtab_t *c = sl_cmdtab_find(words[i]);
		if (c != NULL)
			sl_complete_args(out, c, n - i - 1, words + i + 1);
		return; /* an unknown command: nothing to offer */
	}
	if (cur[0] == '-') {
		for (size_t i = 0; i < sizeof sl_complete_opts / sizeof sl_complete_opts[0]; i++)
			fprintf(out, "%s\n", sl_complete_opts[i]);
		return;
	}
	for (size_t i = 0; i < SL_CMDTAB_CNT; i++)
		fprintf(out, "%s\n", sl_cmdtab[i].name);
	fprintf(out, "top\n"); /* sluicectl's live view (sl_top.h) */
}
