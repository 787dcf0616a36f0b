/* fuzz_cfg.c — libFuzzer target "cfg": the INI config reader (sl_cfg.h)
   on an arbitrary file.  Each input is written to one file in a private
   directory and loaded over the defaults, as both daemons do: it must
   either load or fail with a "FILE:LINE: ..." (or "FILE: ...") message
   that names the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_cfg.h"
#include "sl_log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_cfg_dir[64], fuzz_cfg_path[96];

static void fuzz_cfg_cleanup(void)
{
	unlink(fuzz_cfg_path);
	rmdir(fuzz_cfg_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	sl_log_init("fuzz_cfg", SL_LOG_ERR);
	snprintf(fuzz_cfg_dir, sizeof fuzz_cfg_dir, "/dev/shm/sl-fuzz-cfg-XXXXXX");
	if (mkdtemp(fuzz_cfg_dir) == NULL)
		abort();
	snprintf(fuzz_cfg_path, sizeof fuzz_cfg_path, "%s/sluice.ini", fuzz_cfg_dir);
	atexit(fuzz_cfg_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(fuzz_cfg_path, "w");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	sl_cfg_t c;
	char err[512];
	sl_cfg_defaults(&c);
	if (sl_cfg_load(&c, fuzz_cfg_path, err, sizeof err) != 0 &&
	    strncmp(err, fuzz_cfg_path, strlen(fuzz_cfg_path)) != 0)
		abort(); /* an error that does not name the file */
	return 0;
}
