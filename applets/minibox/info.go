package minibox

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// printInfo prints one "key: value" line per fact, sorted; an object (the host probe) is a
// heading with its facts indented below it, and a list is space-separated.
func printInfo(out *Output, info map[string]any) error {
	printFacts(out, info, "")
	return nil
}

func printFacts(out *Output, m map[string]any, indent string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	width := 20 - len(indent)
	for _, k := range keys {
		width = max(width, len(k)+1)
	}
	for _, k := range keys {
		switch v := m[k].(type) {
		case map[string]any:
			fmt.Fprintf(out.Stdout, "%s%s:\n", indent, k)
			printFacts(out, v, indent+"  ")
		case []any:
			items := make([]string, len(v))
			for i, x := range v {
				items[i] = fmt.Sprint(x)
			}
			fmt.Fprintf(out.Stdout, "%s%-*s %s\n", indent, width, k+":", strings.Join(items, " "))
		default:
			fmt.Fprintf(out.Stdout, "%s%-*s %s\n", indent, width, k+":", factText(k, v))
		}
	}
}

// factText is one fact for people: sizes (keys ending in _bytes) as 23.54GiB, whole
// numbers as digits (JSON gives every number as a float: 2.5276194816e+10).
func factText(key string, v any) string {
	f, ok := v.(float64)
	if !ok {
		return fmt.Sprint(v)
	}
	if strings.HasSuffix(key, "_bytes") && f >= 0 {
		return bytesSize(f)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e18 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
