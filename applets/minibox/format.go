package minibox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/minibox/minibox/pkg/api/dockershape"
)

// This file holds Docker's output habits: its relative times, its STATUS text, its quoted
// and shortened COMMAND, and --format (Go templates, "table", "json") over row contexts
// whose methods carry Docker's field names.

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
	tmpl, err := template.New("format").Funcs(dockershape.TemplateFuncs).Option("missingkey=zero").Parse(format)
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
