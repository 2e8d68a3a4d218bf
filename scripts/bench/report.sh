# shellcheck shell=bash
# The results of scripts/bench.sh as a table, the generated section of
# docs/performance.md and the chart docs/performance.svg; sourced, never run.

readonly DOC_MD=docs/performance.md
readonly DOC_SVG=docs/performance.svg
# The generated part of performance.md lies between these lines; text outside is kept.
readonly MARK_BEGIN='<!-- bench.sh: generated section begin (do not edit by hand) -->'
readonly MARK_END='<!-- bench.sh: generated section end -->'

# The table, as Markdown; read as-is on a terminal too.
results_table() {
    echo '| workload | pk median | peer | peer median | ratio pk/peer | target | result |'
    echo '|---|---:|---|---:|---:|---|---|'
    awk -F '\t' '{ printf "| %s %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$RESULTS"
}

# The FUSE peers' versions, when this run used them.
peer_versions_fuse() {
    [ "$USED_GOCRYPTFS" = 1 ] || return 0
    printf ', %s' "$(gocryptfs -version 2>/dev/null | head -n 1 | cut -d ';' -f 1)"
}

# How each workload that ran was timed, with this mode's counts.
method_notes() {
    local id
    for id in "${WORKLOADS[@]}"; do "notes_${id,,}"; done
}

generated_section() {
    local cpu pk_source
    cpu="$(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
    # Name where pk came from, not its path: the doc must not carry this machine's paths.
    # shellcheck disable=SC2016  # the literal text $PK_BIN is meant
    if [ -n "${PK_BIN:-}" ]; then pk_source='`$PK_BIN`'; else pk_source='pk on PATH'; fi
    echo "$MARK_BEGIN"
    echo
    echo "## Latest run"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs${cpu:+ ($cpu)}, $(uname -srm)"
    echo "- command: \`$COMMAND_LINE\` ($([ "$QUICK" = 1 ] && echo quick || echo full) mode)"
    echo "- pk: $("$PK" --version 2>/dev/null | head -n 1), $(pk_build_kind), from $pk_source"
    echo "- peers: pass $(pass version 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -n 1), $(gpg --version | head -n 1), $(git --version)$(peer_versions_fuse), timed with $(hyperfine --version)"
    echo "- keynode, pass store and gocryptfs data on: $(findmnt -n -o FSTYPE -T "$WORK") (what an fsync costs depends on it)"
    echo
    results_table
    echo
    echo "Ratio = pk median / peer median, both measured side by side in this run. A result"
    echo "counts when ratio <= target, or, for a target in ms, s or MB, when pk's median is"
    echo "within it (the peer is then shown for comparison); \"shown\" rows give context that"
    echo "PERFORMANCE.md sets no target for. INVALID means a command's output"
    echo "was wrong, so its time does not count. What each row times:"
    echo
    method_notes
    echo
    echo "![ratio pk/peer per workload](performance.svg)"
    echo
    echo "$MARK_END"
}

# Replaces the generated section of performance.md, keeping anything written around it.
write_markdown() {
    local section="$WORK/section.md"
    generated_section >"$section"
    mkdir -p "$(dirname "$DOC_MD")"
    if [ -f "$DOC_MD" ] && grep -qF "$MARK_BEGIN" "$DOC_MD" && grep -qF "$MARK_END" "$DOC_MD"; then
        awk -v begin="$MARK_BEGIN" -v end="$MARK_END" -v section="$section" '
            $0 == begin { while ((getline line < section) > 0) print line; skip = 1; next }
            $0 == end   { skip = 0; next }
            !skip       { print }' "$DOC_MD" >"$WORK/performance.md"
    else
        {
            echo "# Performance"
            echo
            echo "Written by \`scripts/bench.sh\`; workloads and targets are those of the design's"
            echo "PERFORMANCE.md. Compare ratios, not absolute times: machines here are shared and noisy."
            echo
            cat "$section"
        } >"$WORK/performance.md"
    fi
    cp "$WORK/performance.md" "$DOC_MD"
}

write_svg() {
    mkdir -p "$(dirname "$DOC_SVG")"
    awk -F '\t' -f "$BENCH_DIR/chart.awk" "$RESULTS" >"$WORK/performance.svg"
    cp "$WORK/performance.svg" "$DOC_SVG"
}
