/* sl_complete.h — shell completion for sluicectl, from the API's own
   command table (sl_cmdtab.h) and watch topics (sl_watch.h), so it can
   never list a command or argument the daemon does not take.  The bash
   script (sluicectl.bash) runs `sluicectl --complete WORD...` with the
   words of the line up to the cursor (the last one the word being
   completed, maybe empty) and offers what it prints, one candidate per
   line: options, command names, key= of arguments not given yet, and
   values where the set is known (true/false, topics).  A path= value is
   the script's (file names).  Owner: nobody (stateless). */
#ifndef SL_COMPLETE_H
#define SL_COMPLETE_H

#include <stdio.h>

/* sl_complete_print writes the candidates for the last of words[0..n). */
void sl_complete_print(FILE *out, int n, char **words);

#endif /* SL_COMPLETE_H */
