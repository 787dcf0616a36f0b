/* sl_xdpcfg.h — configuring the XDP steering program on a net_af_xdp port.
   The af_xdp PMD loads the program given as `xdp_prog=` in the port's
   devargs (bpf/sl_xdp.bpf.o, installed in share/sluice) and attaches it to
   the interface; the program steers only what is ours once it knows our
   address and UDP port.  sluice-dp writes them into the program's
   sl_xdp_cfg map (sl_xdp.h) after the port started, found through the
   interface's attached program.  Owner: the main lcore, once at start. */
#ifndef SL_XDPCFG_H
#define SL_XDPCFG_H

#include "sl_dp.h"

/* sl_xdpcfg_apply: on a net_af_xdp port whose program has an sl_xdp_cfg
   map, writes our address and port into it.  0 also when there is nothing
   to configure (another port, or the PMD's default program: every frame
   comes to us then); -1 with a log line when the map cannot be written. */
int sl_xdpcfg_apply(const sl_dp_t *dp);

#endif /* SL_XDPCFG_H */
