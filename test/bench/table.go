package main

import (
	"fmt"
	"io"
	"strings"
)

// verdict of one row.
const (
	pass = "PASS"
	miss = "MISS"
	info = "info"
)

// row is one line of the result table: one target of one scenario.
type row struct {
	scenario string
	target   string
	measured string
	result   string
}

type table struct{ rows []row }

func (t *table) add(scenario, target string, ok bool, format string, args ...any) {
	result := miss
	if ok {
		result = pass
	}
	t.rows = append(t.rows, row{scenario, target, fmt.Sprintf(format, args...), result})
}

func (t *table) note(scenario, what string, format string, args ...any) {
	t.rows = append(t.rows, row{scenario, what, fmt.Sprintf(format, args...), info})
}

// print writes the table as Markdown, so it can be pasted into docs/benchmarks.md as it is.
func (t *table) print(w io.Writer) {
	fmt.Fprintln(w, "| scenario | target | measured | result |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", cell(r.scenario), cell(r.target), cell(r.measured), r.result)
	}
	passed, missed := 0, 0
	for _, r := range t.rows {
		switch r.result {
		case pass:
			passed++
		case miss:
			missed++
		}
	}
	fmt.Fprintf(w, "\n%d PASS, %d MISS\n", passed, missed)
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
