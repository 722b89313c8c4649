package compose

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/minibox/minibox/pkg/api/dockershape"
)

// psTitles are the column titles a "table" template's header shows for each field, as
// Docker's and Compose's tables title them.
var psTitles = map[string]string{
	"ID": "CONTAINER ID", "Name": "NAME", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
	"Project": "PROJECT", "Service": "SERVICE", "CreatedAt": "CREATED AT", "RunningFor": "CREATED",
	"State": "STATE", "Health": "HEALTH", "ExitCode": "EXIT CODE", "Status": "STATUS", "Ports": "PORTS",
	"Publishers": "PUBLISHERS", "Labels": "LABELS",
}

// writeTemplate writes rows through format, a Go template as Docker's --format takes it
// (\t and \n written as two characters are a tab and a newline): one line a row, or with
// a leading "table " aligned columns under a header of the fields' titles.
func writeTemplate[T any](w io.Writer, format string, rows []T) error {
	table := false
	if rest, ok := strings.CutPrefix(format, "table"); ok && (rest == "" || rest[0] == ' ') {
		table, format = true, rest
	}
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(strings.TrimSpace(format))
	tmpl, err := template.New("format").Funcs(dockershape.TemplateFuncs).Parse(format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		if err := tmpl.Execute(out, psTitles); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
		fmt.Fprintln(out)
	}
	for _, row := range rows {
		if err := tmpl.Execute(out, row); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
		fmt.Fprintln(out)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}
