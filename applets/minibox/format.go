package minibox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"
	"unicode/utf8"
)

// This file holds Docker's output habits: its relative times, its STATUS text, its quoted
// and shortened COMMAND, and --format (Go templates, "table", "json") over row contexts
// whose methods carry Docker's field names.

// humanDuration is Docker's units.HumanDuration: "Less than a second", "3 seconds",
// "About a minute", "5 minutes", "About an hour", "3 hours", "2 days", "3 weeks",
// "4 months", "2 years".
func humanDuration(d time.Duration) string {
	if s := int(d.Seconds()); s < 1 {
		return "Less than a second"
	} else if s == 1 {
		return "1 second"
	} else if s < 60 {
		return fmt.Sprintf("%d seconds", s)
	} else if m := int(d.Minutes()); m == 1 {
		return "About a minute"
	} else if m < 60 {
		return fmt.Sprintf("%d minutes", m)
	} else if h := int(d.Hours() + 0.5); h == 1 {
		return "About an hour"
	} else if h < 48 {
		return fmt.Sprintf("%d hours", h)
	} else if h < 24*7*2 {
		return fmt.Sprintf("%d days", h/24)
	} else if h < 24*30*2 {
		return fmt.Sprintf("%d weeks", h/24/7)
	} else if h < 24*365*2 {
		return fmt.Sprintf("%d months", h/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}

// sinceText is "<duration> ago", or "" for a zero time.
func sinceText(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return humanDuration(now.Sub(t)) + " ago"
}

// statusText is ps's STATUS as Docker writes it: "Up 5 minutes", "Up 5 minutes
// (healthy)", "Up 2 seconds (Paused)", "Restarting (1) 3 seconds ago", "Exited (0) 2
// minutes ago", "Created".
func statusText(status, health string, exitCode int, started, finished, now time.Time) string {
	switch status {
	case "running":
		up := "Up " + humanDuration(now.Sub(started))
		switch health {
		case "", "none":
			return up
		case "starting":
			return up + " (health: starting)"
		}
		return up + " (" + health + ")"
	case "paused":
		return "Up " + humanDuration(now.Sub(started)) + " (Paused)"
	case "restarting":
		return fmt.Sprintf("Restarting (%d) %s ago", exitCode, humanDuration(now.Sub(finished)))
	case "removing":
		return "Removal In Progress"
	case "dead":
		return "Dead"
	}
	// An exit is an exit even when the start time was lost (a daemon killed before it
	// saved the start); only a container that never ended and never started is Created.
	if status == "created" || started.IsZero() && finished.IsZero() {
		return "Created"
	}
	if finished.IsZero() {
		return fmt.Sprintf("Exited (%d)", exitCode)
	}
	return fmt.Sprintf("Exited (%d) %s ago", exitCode, humanDuration(now.Sub(finished)))
}

// commandText is the command as Docker's daemon lists it: arguments with a space are put
// in single quotes ("nginx -g 'daemon off;'").
func commandText(cmd []string) string {
	parts := make([]string, len(cmd))
	for i, a := range cmd {
		if i > 0 && strings.Contains(a, " ") {
			a = "'" + a + "'"
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// psCommandCell is COMMAND as Docker's ps prints it: cut to 20 characters with "…" unless
// noTrunc, then Go-quoted, so a newline or a tab shows as \n or \t and never breaks a row.
func psCommandCell(cmd []string, noTrunc bool) string {
	s := commandText(cmd)
	if !noTrunc {
		s = ellipsis(s, 20)
	}
	return strconv.Quote(s)
}

// ellipsis cuts s to max characters, the last one "…".
func ellipsis(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

// humanSize is Docker's units.HumanSize (decimal, 3 significant digits): "1.23MB", "0B".
func humanSize(n float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	i := 0
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", n, units[i])
}

// bytesSize is Docker's units.BytesSize (binary): "23.54GiB", "512MiB".
func bytesSize(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", n, units[i])
}

// ---- --format -------------------------------------------------------------------------

// formatFuncs are the functions Docker's --format templates have.
var formatFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", err
		}
		return strings.TrimSpace(b.String()), nil
	},
	"join":     strings.Join,
	"split":    strings.Split,
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"title":    templateFuncs["title"],
	"println":  fmt.Sprintln,
	"pad":      func(s string, l, r int) string { return strings.Repeat(" ", l) + s + strings.Repeat(" ", r) },
	"truncate": func(s string, n int) string { return string([]rune(s)[:min(n, utf8.RuneCountInString(s))]) },
}

// rowContext is one listed object for --format: its exported methods without arguments
// are the template's fields (Docker's names); the same type with header set answers each
// field with its column title.
type rowContext interface{ setHeader() }

// formatRows prints rows under format:
//
//	""           the command's default table (def)
//	"table"      the default table too
//	"table T"    T per row in aligned columns, under a header row made from T
//	"json"       one JSON object per row, every field
//	T            T per row, no header
//
// As in Docker, `\t` and `\n` written literally in T are a tab and a newline.
func formatRows(out *Output, format, def string, header rowContext, rows []rowContext) error {
	if format == "" || format == "table" {
		format = def
	}
	if format == "json" {
		format = "{{json .}}"
	}
	table := false
	if rest, ok := strings.CutPrefix(format, "table"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		table, format = true, strings.TrimLeft(rest, " \t")
	}
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	tmpl, err := template.New("format").Funcs(formatFuncs).Option("missingkey=zero").Parse(format)
	if err != nil {
		return usageError("--format: %v", err)
	}
	var buf bytes.Buffer
	if table {
		header.setHeader()
		if err := tmpl.Execute(&buf, header); err != nil {
			return usageError("--format: %v", err)
		}
		buf.WriteByte('\n')
	}
	for _, r := range rows {
		if err := tmpl.Execute(&buf, r); err != nil {
			return usageError("--format: %v", err)
		}
		buf.WriteByte('\n')
	}
	if !table {
		_, err := out.Stdout.Write(buf.Bytes())
		return err
	}
	tw := tabwriter.NewWriter(out.Stdout, 10, 1, 3, ' ', 0)
	tw.Write(buf.Bytes())
	return tw.Flush()
}

// marshalFields is a row context as JSON: every exported method that takes no argument
// and returns a string, by name, as Docker's {{json .}} on a row prints.
func marshalFields(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	t := rv.Type()
	m := map[string]string{}
	for i := 0; i < t.NumMethod(); i++ {
		meth := t.Method(i)
		if meth.Name == "MarshalJSON" || meth.Type.NumIn() != 1 || meth.Type.NumOut() != 1 || meth.Type.Out(0).Kind() != reflect.String {
			continue
		}
		m[meth.Name] = rv.Method(i).Call(nil)[0].String()
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}

// labelsText is Docker's .Labels: k=v pairs sorted, comma-separated.
func labelsText(l map[string]string) string {
	var kv []string
	for k, v := range l {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}
