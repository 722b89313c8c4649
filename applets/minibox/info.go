package minibox

import (
	"fmt"
	"sort"
)

func printInfo(out *Output, info map[string]any) error {
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(out.Stdout, "%-20s %v\n", k+":", info[k])
	}
	return nil
}
