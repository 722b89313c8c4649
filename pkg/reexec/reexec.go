package reexec

import (
	"os"
	"os/exec"
)

// Self is the running binary, as the kernel knows it (survives a replaced file on disk).
const Self = "/proc/self/exe"

// Command runs this binary as another applet; argv[0] names the applet, extra files
// become fds 3, 4, ...
func Command(applet string, args []string, extra ...*os.File) *exec.Cmd {
	return &exec.Cmd{Path: Self, Args: append([]string{applet}, args...), ExtraFiles: extra}
}
