# SPDX-License-Identifier: MIT
# Drain scaling curve (bench/results/scaling.png): user memory per
# lingering socket and idle-timeout lateness against the number of sockets
# lingering at once. Run by bench/run in the data directory.
if (!exists("outdir")) outdir = "."
set terminal pngcairo size 900,520 font ",10" noenhanced
set output outdir."/scaling.png"
set title "lingerclose: drain scale"
set xlabel "sockets lingering at once"
set logscale x
set grid
set ylabel "user memory per lingering socket (bytes)"
set y2label "idle-timeout lateness (ms)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key top left
plot "drain-scale.dat" using 1:2 axes x1y1 with linespoints lw 2 title "bytes per socket", \
     "" using 1:5 axes x1y2 with linespoints lw 2 title "lateness p99 (ms)", \
     "" using 1:4 axes x1y2 with linespoints dt 2 title "lateness p50 (ms)"
