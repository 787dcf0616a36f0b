/* sl_session_private.h — magic and layout version of the per-lcore session
   table in shared memory (sl_session.h).  Only sl_session.c and tests
   include this; bump SL_SESSION_LAYOUT on any change to sl_session_table_t
   or sl_session_t. */
#ifndef SL_SESSION_PRIVATE_H
#define SL_SESSION_PRIVATE_H

#define SL_SESSION_MAGIC  0x5353455353454c53ull /* "SLESSESS" */
#define SL_SESSION_LAYOUT 2u

#endif /* SL_SESSION_PRIVATE_H */
