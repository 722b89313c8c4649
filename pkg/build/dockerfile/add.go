package dockerfile

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/minibox/minibox/pkg/build/graph"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	digest "github.com/opencontainers/go-digest"
)

// isGitSource reports a source ADD would clone: git@host:..., git:// or ssh:// URLs, a
// github.com/ path, or an http(s) URL of a repository (path ending in .git).
func isGitSource(src string) bool {
	switch {
	case strings.HasPrefix(src, "git@"), strings.HasPrefix(src, "git://"), strings.HasPrefix(src, "ssh://"),
		strings.HasPrefix(src, "github.com/"):
		return true
	case strings.HasPrefix(src, "http://"), strings.HasPrefix(src, "https://"):
		u, err := url.Parse(src)
		return err == nil && strings.HasSuffix(u.Path, ".git")
	}
	return false
}

// isHTTPSource reports a file ADD downloads.
func isHTTPSource(src string) bool {
	return (strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")) && !isGitSource(src)
}

func isRemoteSource(src string) bool { return isHTTPSource(src) || isGitSource(src) }

// multiDest makes dst a directory ("dst/") when an instruction copies several sources
// into it, as Docker requires and does.
func multiDest(dst string, n int) string {
	if n > 1 && !strings.HasSuffix(dst, "/") {
		return dst + "/"
	}
	return dst
}

// inlineFiles are a COPY's or ADD's heredocs, expanded already where the delimiter was
// unquoted.
func inlineFiles(cs []instructions.SourceContent) []graph.Script {
	out := make([]graph.Script, 0, len(cs))
	for _, c := range cs {
		out = append(out, graph.Script{Name: c.Path, Data: c.Data})
	}
	return out
}

// addStep plans ADD: local sources as COPY does (archives unpacked), http(s) files
// downloaded by the daemon (checked against --checksum), heredocs; git sources refused.
func (dp *dockerPlanner) addStep(c *instructions.AddCommand, s *dstage, st *graph.State, args map[string]string) (*graph.Instr, error) {
	if len(c.ExcludePatterns) > 0 {
		return nil, fmt.Errorf("ADD --exclude is not supported by this builder")
	}
	var local, urls []string
	for _, src := range c.SourcePaths {
		switch {
		case isGitSource(src):
			return nil, fmt.Errorf("ADD %s: adding a git repository is not supported by this builder; clone it into the build context (or in a RUN step) and COPY it", src)
		case isHTTPSource(src):
			urls = append(urls, src)
		default:
			local = append(local, src)
		}
	}
	dk := &graph.Step{Unpack: c.Unpack == nil || *c.Unpack, URLs: urls, Inline: inlineFiles(c.SourceContents)}
	if c.Checksum != "" {
		if len(c.SourcePaths) != 1 || len(urls) != 1 {
			return nil, fmt.Errorf("--checksum=%s needs exactly one http(s) source", c.Checksum)
		}
		d, err := digest.Parse(c.Checksum)
		if err != nil {
			return nil, fmt.Errorf("--checksum=%s: expected sha256:<64 hex digits> (or sha384, sha512): %v", c.Checksum, err)
		}
		dk.Checksum = d.String()
	}
	dst := multiDest(c.DestPath, len(c.SourcePaths)+len(c.SourceContents))
	ip, err := dp.copyStep("ADD", local, dst, "", c.Chown, c.Chmod, s, *st, args)
	if err != nil {
		return nil, err
	}
	ip.Step = dk
	return ip, nil
}
