package minibox

// CpCmd is `cp [-L] <src> <dst>`.
type CpCmd struct {
	Follow bool   `short:"L" help:"Follow a symbolic link in the source."`
	Src    string `arg:"" name:"src" help:"<ctr>:<path>, a host path, or - (tar on stdin)."`
	Dst    string `arg:"" name:"dst" help:"<ctr>:<path>, a host path, or - (tar on stdout)."`
}

func (c *CpCmd) Run() error { return nil }
