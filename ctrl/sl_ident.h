/* sl_ident.h — the node's long-term identity key file ([instance] key,
   SPEC §8): 64 hex digits of an Ed25519 seed and a newline, mode 0600,
   owned by sluice-ctrl's user.  The identity's public key is the node_id
   every HELLO and HELLO_ACK carries.  Owner: ctrl's start-up, once. */
#ifndef SL_IDENT_H
#define SL_IDENT_H

#include "sl_auth.h"

#define SL_IDENT_ERR_LIST(X)                                                                       \
	X(OK, "ok")                                                                                \
	X(IO, "io")         /* cannot create, read or write the file */                            \
	X(MODE, "mode")     /* readable or writable by group or others */                          \
	X(FORMAT, "format") /* not 64 hex digits */

typedef enum {
#define SL_IDENT_ERR_ENUM(e, s) SL_IDENT_ERR_##e,
	SL_IDENT_ERR_LIST(SL_IDENT_ERR_ENUM)
#undef SL_IDENT_ERR_ENUM
	    SL_IDENT_ERR_CNT
} sl_ident_err_t;

/* sl_ident_load reads the identity at `path`, or creates it (a fresh
   random seed, mode 0600, written whole before it is renamed into place)
   when the file does not exist; *created says which.  On an error, `err`
   holds one line naming the path, the cause and the fix. */
sl_ident_err_t sl_ident_load(const char *path, sl_auth_id_t *id, bool *created, char *err,
                             size_t err_sz);

/* sl_ident_hex writes the 64 hex digits of a node id (and a NUL) to out. */
void sl_ident_hex(const uint8_t node_id[32], char out[65]);

#endif /* SL_IDENT_H */
