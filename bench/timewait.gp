# SPDX-License-Identifier: MIT
# Where TIME_WAIT lands (bench/results/timewait.png): the server's and the
# client's TIME_WAIT entries over time under bench/timewait.sh's load,
# without the library, with its defaults and with LINGERCLOSE_PEER_FIN_WAIT.
# Run by bench/run in the data directory.
if (!exists("outdir")) outdir = "."
if (!exists("datafile")) datafile = "timewait.dat"
set terminal pngcairo size 1100,480 font ",10" noenhanced
set output outdir."/timewait.png"
set multiplot layout 1,2 title "lingerclose: TIME_WAIT entries, new connections from one client address"
set grid
set key below
set xlabel "seconds into the load"
set yrange [0:*]
set title "server side (local port: the server's)"
set ylabel "sockets in TIME_WAIT"
plot datafile index 0 using 1:2 with linespoints title "no library", \
     datafile index 1 using 1:2 with linespoints title "library, defaults", \
     datafile index 2 using 1:2 with linespoints title "library, LINGERCLOSE_PEER_FIN_WAIT"
set title "client side (remote port: the server's)"
plot datafile index 0 using 1:3 with linespoints title "no library", \
     datafile index 1 using 1:3 with linespoints title "library, defaults", \
     datafile index 2 using 1:3 with linespoints title "library, LINGERCLOSE_PEER_FIN_WAIT"
unset multiplot
