# SPDX-License-Identifier: MIT
# Throughput comparison (bench/results/throughput.png): nginx req/s per
# configuration and load, and early-error responses correctly received per
# second, medians with min-max bars. Run by bench/run in the data directory.
if (!exists("outdir")) outdir = "."
set terminal pngcairo size 1300,560 font ",10" noenhanced
set output outdir."/throughput.png"
set multiplot layout 1,2 title "lingerclose: throughput (medians, bars: min-max of the rounds)"

set style fill solid 0.6 border -1
set boxwidth 0.7
set grid ytics
set xtics rotate by -30
set yrange [0:*]
set title "nginx, wrk (req/s)"
set ylabel "requests per second"
plot "http.dat" using 0:4:5:6:(0.7):xtic(sprintf("%s %s c%s", strcol(1), strcol(2), strcol(3))) \
     with boxerrorbars notitle

set title "early-error uploads (responses correctly received per second)"
set ylabel "correct responses per second"
plot "early-error.dat" using 0:2:3:4:(0.7):xtic(1) with boxerrorbars notitle
unset multiplot
