/* Connections a process is handed when it starts: inetd, tcpserver and
 * systemd (Accept=yes) start a server with the connection on stdin and
 * stdout, or as systemd's first passed descriptor, and keep no copy. */
#ifndef LINGERCLOSE_ADOPT_H
#define LINGERCLOSE_ADOPT_H

/* Records each connected TCP socket on descriptors 0-2 (and on the
 * descriptors systemd passed to this very process) as owned by this
 * process; descriptors of the same socket count as its holders. Returns
 * how many sockets were adopted. */
int lc_adopt_handed_over(void);

#endif
