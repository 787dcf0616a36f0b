/* sl_code.h — the outcome codes of the control API (SPEC.md §9 error
   codes), as one enum every ctrl layer can use: the domain says why a
   call failed with one of these, an operation ends with one, the face
   prints its name.  SL_CODE_OK is success.  No state. */
#ifndef SL_CODE_H
#define SL_CODE_H

#include "sl_base.h"

#define SL_CODE_LIST(X)                                                                            \
	X(OK)                                                                                      \
	X(BAD_REQUEST)                                                                             \
	X(UNKNOWN_CMD)                                                                             \
	X(NOT_FOUND)                                                                               \
	X(TIMEOUT)                                                                                 \
	X(NOT_READY)                                                                               \
	X(SHUTTING_DOWN)                                                                           \
	X(BUSY)                                                                                    \
	X(INVALID_HEADER)                                                                          \
	X(INTERNAL)                                                                                \
	X(CANCELLED)                                                                               \
	X(EXHAUSTED)

typedef enum {
#define SL_CODE_ENUM(c) SL_CODE_##c,
	SL_CODE_LIST(SL_CODE_ENUM)
#undef SL_CODE_ENUM
	    SL_CODE_CNT
} sl_code_t;

/* sl_code_str names a code as SPEC §9 spells it ("NOT_FOUND"); "INTERNAL"
   out of range. */
const char *sl_code_str(sl_code_t c);

#endif /* SL_CODE_H */
