/* SPDX-License-Identifier: MIT */
/* lingerclose probe: whether a server's close destroys its own responses,
 * seen from a client that writes its whole request before it reads. */
#ifndef LINGERCLOSE_PROBE_H
#define LINGERCLOSE_PROBE_H

/* argv[0] is "probe". Returns the exit status. */
int probe_main(int argc, char **argv);

#endif
