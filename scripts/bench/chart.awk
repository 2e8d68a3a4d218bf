# The chart of scripts/bench.sh: horizontal bars of pk/peer per row of its results
# (TSV, see record_row in lib.sh), on a log scale since the ratios span 0.01 to 10 and
# more, each bar drawn from the parity line 1 (as fast as the peer): a bar to the left
# means pk does better. Each row's target is a blue mark. Plain SVG.
# Usage: awk -F '\t' -f chart.awk RESULTS > performance.svg
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
function lg(v) { return log(v) / log(10) }
function floor_(v) { return v == int(v) || v > 0 ? int(v) : int(v) - 1 }
function ceil_(v) { return v == int(v) || v < 0 ? int(v) : int(v) + 1 }
function x(v) { if (v < lo) v = lo; if (v > hi) v = hi
                return left + (lg(v) - lg(lo)) / (lg(hi) - lg(lo)) * plot }
function max3(a, b, c) { return a > b ? (a > c ? a : c) : (b > c ? b : c) }
{ n++; id[n] = $1; label[n] = $2; peer[n] = $4; ratio[n] = $6 + 0; shown[n] = $6; target[n] = $9 + 0; mark[n] = $8 }
END {
    least = 1; most = 1
    for (i = 1; i <= n; i++) {
        if (ratio[i] > 0 && ratio[i] < least) least = ratio[i]
        if (target[i] > 0 && target[i] < least) least = target[i]
        if (ratio[i] > most) most = ratio[i]
        if (target[i] > most) most = target[i]
    }
    # Whole decades, with some room beyond the extremes.
    lo = 10 ^ floor_(lg(least / 1.3)); hi = 10 ^ ceil_(lg(most * 1.3))
    left = 350; plot = 420; row = 46; head = 66
    width = left + plot + 110; height = head + n * row + 62
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n", width, height, width, height
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">pk / peer (median time, memory or size; log scale; lower is better)</text>\n", 10
    bottom = head + n * row
    for (d = lo; d <= hi * 1.001; d *= 10) {
        printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>\n", x(d), head - 6, x(d), bottom
        printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%g</text>\n", x(d), bottom + 18, d
        for (m = 2; m <= 5 && d * m < hi; m += 3) {
            printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>\n", x(d * m), head - 6, x(d * m), bottom
            printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#999\" font-size=\"10\">%g</text>\n", x(d * m), bottom + 16, d * m
        }
    }
    printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\" stroke-dasharray=\"2,3\"/>\n", x(1), head - 10, x(1), bottom
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">1 = same as peer</text>\n", x(1), head - 14
    for (i = 1; i <= n; i++) {
        y = head + (i - 1) * row
        colour = mark[i] == "PASS" ? "#2e7d32" : (mark[i] == "FAIL" ? "#c62828" : "#9e9e9e")
        printf "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s %s</text>\n", 10, y + 17, esc(id[i]), esc(label[i])
        printf "<text x=\"%d\" y=\"%d\" fill=\"#555\">vs %s</text>\n", 10, y + 33, esc(peer[i])
        a = x(ratio[i]); b = x(1)
        printf "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"24\" fill=\"%s\"/>\n", a < b ? a : b, y + 8, a < b ? b - a : (a - b > 1 ? a - b : 1), colour
        if (target[i] <= 0) at = max3(a, a, b)   # a row shown for context: no target to mark
        else {
            printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#1565c0\" stroke-width=\"3\"/>\n", x(target[i]), y + 4, x(target[i]), y + 36
            at = max3(a, x(target[i]), b)   # clear of the bar, the target mark and the parity line
        }
        printf "<text x=\"%.1f\" y=\"%d\" fill=\"#000\">%s %s</text>\n", at + 6, y + 25, esc(shown[i]), esc(mark[i])
    }
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", left, head - 6, left, bottom
    printf "<text x=\"%d\" y=\"%d\" fill=\"#1565c0\">| target (pk/peer at most)</text>\n", left, bottom + 38
    printf "<text x=\"%d\" y=\"%d\" fill=\"#555\">bars start at 1: to the left, pk is faster (or smaller) than the peer</text>\n", left, bottom + 54
    printf "</svg>\n"
}
