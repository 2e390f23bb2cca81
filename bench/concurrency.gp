# SPDX-License-Identifier: MIT
# nginx throughput against wrk's connections (bench/results/concurrency.png),
# one panel per load, one line per configuration, medians with min-max bars.
# Run by bench/run in the data directory (http_sweep.dat).
if (!exists("outdir")) outdir = "."
set terminal pngcairo size 1100,520 font ",10" noenhanced
set output outdir."/concurrency.png"
set multiplot layout 1,2 title "lingerclose: nginx throughput against concurrency (medians, bars: min-max of the rounds)"
set logscale x 2
set xrange [0.7:750]
set grid
set xlabel "wrk connections"
set ylabel "requests per second"
set yrange [0:*]
set key bottom right
configs = "nolib nginx_linger nginx_always lib"
titles = "'off, no library' 'on, no library' 'always, no library' 'off + library'"
# The rows of one configuration and load, in the order of the connections.
rows(c, l) = sprintf("< awk '$1 == \"%s\" && $2 == \"%s\"' http_sweep.dat | sort -n -k3", c, l)
do for [load in "close keepalive"] {
    set title (load eq "close" ? "Connection: close" : "keep-alive")
    plot for [i = 1:4] rows(word(configs, i), load) using 3:4:5:6 \
        with yerrorlines lw 2 title "lingering_close ".word(titles, i)
}
unset multiplot
