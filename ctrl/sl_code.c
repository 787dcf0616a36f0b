/* sl_code.c — see sl_code.h. */
#include "sl_code.h"

static const char *const sl_code_names[SL_CODE_CNT] = {
#define SL_CODE_NAME(c) #c,
    SL_CODE_LIST(SL_CODE_NAME)
#undef SL_CODE_NAME
};

const char *sl_code_str(sl_code_t c)
{
	return (unsigned)c < SL_CODE_CNT ? sl_code_names[c] : "INTERNAL";
}
