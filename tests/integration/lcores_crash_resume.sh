#!/usr/bin/env bash
# lcores_crash_resume.sh — sync_crash_resume.sh with two worker lcores per
# node (issue 10 item 7): every node's sluice-dp runs EAL -l 0-1 with an
# af_packet port of two queue pairs (lib.sh SLT_LCORES), so B's session to
# A lives on one worker while A's frames may land on the other and are
# handed to it (dataplane/sl_handoff.h).  The same checks as
# sync_crash_resume.sh: the kill mid-sync, ctrl re-attaching to the
# restarted two-worker dataplane, the resume from the stored tip, the hold
# of a session disconnected mid-resume, the settled range table.
export SLT_LCORES=2
exec "$(dirname "$0")/sync_crash_resume.sh" "$@"
