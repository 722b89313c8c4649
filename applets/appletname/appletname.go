// Package appletname tells which of the binary's applets a command line runs: by argv[0]
// first ("miniboxd", "minibox-lazyfs", ...), then, for "minibox", by the first argument
// ("minibox daemon", ...). It imports nothing, so that a package init can know it long
// before main (see applets/minibox/oneproc): Go initialises packages in the order of their
// import paths as soon as their imports are, and one that waits for path/filepath or
// strings comes after most of the binary's.
package appletname

// The applets' names, as argv[0] gives them.
const (
	CLI    = "minibox"
	Daemon = "miniboxd"
	LazyFS = "minibox-lazyfs"
	DNS    = "minibox-dns"
)

// Of returns the applet argv runs (any name but the applets' runs the CLI) and the
// arguments it gets.
func Of(argv []string) (name string, args []string) {
	name, args = Base(argv[0]), argv[1:]
	switch name {
	case Daemon, LazyFS, DNS:
		return name, args
	}
	if len(args) > 0 {
		if a := alias(args[0]); a != "" {
			return a, args[1:]
		}
	}
	return CLI, args
}

// alias is the applet "minibox <arg>" runs, or "".
func alias(arg string) string {
	switch arg {
	case "daemon":
		return Daemon
	case "lazyfs":
		return LazyFS
	case "dns":
		return DNS
	}
	return ""
}

// Base is filepath.Base on Linux: the last element of path, trailing slashes removed; "."
// for "" and "/" for slashes only.
func Base(path string) string {
	if path == "" {
		return "."
	}
	for len(path) > 0 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			path = path[i+1:]
			break
		}
	}
	if path == "" {
		return "/"
	}
	return path
}
