package shimfiles

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/plainfile"
)

// PIDFile, in the directory of a container tied to its daemon (a build's), names the
// container's shim and init, a line "<name> <pid> <start>" each, start being the process's
// start time (clock ticks after boot): the shim writes its own line before it starts init,
// and init's once it exists. A daemon after a crash ends them by PID, only while each PID
// still belongs to the process recorded.
const PIDFile = "shim.pid"

// ProcRecord is one line of PIDFile.
type ProcRecord struct {
	Name  string // "shim" or "init"
	PID   int
	Start uint64
}

// ProcStart is pid's start time, field 22 of /proc/<pid>/stat: with the PID, it names one
// process for the life of the system.
func ProcStart(pid int) (uint64, error) {
	b, err := plainfile.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: the fields follow the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// RecordProc adds the live process pid to dir's PIDFile, which first starts afresh: a
// block's directory serves one build container after another. Plain syscalls, as the rest
// of a start (plainfile).
func RecordProc(dir, name string, pid int, first bool) error {
	start, err := ProcStart(pid)
	if err != nil {
		return err
	}
	flags := unix.O_WRONLY | unix.O_CREAT | unix.O_APPEND
	if first {
		flags |= unix.O_TRUNC
	}
	path := filepath.Join(dir, PIDFile)
	fd, err := plainfile.Open(path, flags, 0o600)
	if err != nil {
		return err
	}
	// One write: a reader sees the line whole or not at all.
	line := make([]byte, 0, 64)
	line = append(line, name...)
	line = append(line, ' ')
	line = strconv.AppendInt(line, int64(pid), 10)
	line = append(line, ' ')
	line = strconv.AppendUint(line, start, 10)
	line = append(line, '\n')
	if werr := plainfile.WriteAll(fd, line); werr != nil {
		err = &os.PathError{Op: "write", Path: path, Err: werr}
	}
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = &os.PathError{Op: "close", Path: path, Err: cerr}
	}
	return err
}

// ReadProcs reads dir's PIDFile, each process once, in the order first recorded;
// os.ErrNotExist without one. A warm pair's shim is recorded by the daemon and by itself,
// in either order: the line that comes twice is the same process.
func ReadProcs(dir string) ([]ProcRecord, error) {
	b, err := os.ReadFile(filepath.Join(dir, PIDFile))
	if err != nil {
		return nil, err
	}
	var out []ProcRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		pid, err1 := strconv.Atoi(f[1])
		start, err2 := strconv.ParseUint(f[2], 10, 64)
		if err := errors.Join(err1, err2); err != nil || pid <= 0 {
			continue
		}
		if r := (ProcRecord{Name: f[0], PID: pid, Start: start}); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}
