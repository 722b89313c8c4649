package engine

import "github.com/minibox/minibox/pkg/engine/hostpath"

// hostPaths is where a caller's daemon-host paths may lie: outside the data root, under
// MINIBOX_BUILD_PREFIXES when set.
func (e *Engine) hostPaths() hostpath.Policy { return hostpath.New(e.Root, e.Cfg.BuildPrefixes) }
