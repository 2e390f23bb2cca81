/* What close() does with a descriptor the library recorded: take a
 * snapshot, decide, and either close plainly or hand the socket to the
 * drain. */
#ifndef LINGERCLOSE_LINGER_H
#define LINGERCLOSE_LINGER_H

int lc_close(int fd);

#endif
